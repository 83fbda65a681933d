import type { MetricJson } from './aggregate-metrics.js';

/**
 * The IPC messages of GET /metrics under `serve --workers N`. The worker that a scrape lands
 * on asks the primary; the primary collects every worker's registry as JSON, sums it and
 * answers the asking worker. Types are prefixed so they never meet node's or prom-client's.
 */
export const METRICS_READY = 'authpipe:metrics-ready'; // worker → primary: count me in from now on
export const METRICS_ASK = 'authpipe:metrics-ask'; // worker → primary: a scrape wants the whole server
export const METRICS_COLLECT = 'authpipe:metrics-collect'; // primary → each ready worker
export const METRICS_SAMPLE = 'authpipe:metrics-sample'; // worker → primary: its registry as JSON
export const METRICS_ANSWER = 'authpipe:metrics-answer'; // primary → asking worker: the summed text

/**
 * Set by the primary in its workers' environment. node:cluster alone does not say whose
 * worker this is: under another cluster manager (pm2) nobody would answer the asks, so such
 * a worker serves its own registry as a single process does.
 */
export const CLUSTER_METRICS_ENV = 'AUTHPIPE_CLUSTER_METRICS';

/** The primary gives up on silent workers first, so the worker can still answer a clear 503 before its own limit. */
export const GATHER_TIMEOUT_MS = 1500;
export const ASK_TIMEOUT_MS = 2000;

export type MetricsMessage =
  | { type: typeof METRICS_READY }
  | { type: typeof METRICS_ASK; id: number }
  | { type: typeof METRICS_COLLECT; id: number }
  | { type: typeof METRICS_SAMPLE; id: number; metrics?: MetricJson[]; error?: string }
  | { type: typeof METRICS_ANSWER; id: number; text?: string; error?: string };

const TYPES: ReadonlySet<unknown> = new Set([METRICS_READY, METRICS_ASK, METRICS_COLLECT, METRICS_SAMPLE, METRICS_ANSWER]);

export function isMetricsMessage(message: unknown): message is MetricsMessage {
  return typeof message === 'object' && message !== null && TYPES.has((message as { type?: unknown }).type);
}
