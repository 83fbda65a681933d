import type { Registry } from 'prom-client';
import type { MetricsSource } from '../http/metrics-route.js';
import type { MetricJson } from './aggregate-metrics.js';
import {
  ASK_TIMEOUT_MS,
  isMetricsMessage,
  METRICS_ANSWER,
  METRICS_ASK,
  METRICS_COLLECT,
  METRICS_READY,
  METRICS_SAMPLE,
  type MetricsMessage,
} from './cluster-protocol.js';

/**
 * The worker's half of GET /metrics under `serve --workers N`: answers the primary's
 * collects with this worker's registry, and serves a scrape with the whole server's sum,
 * asked of the primary (which serves no HTTP). A scrape that gets no sum within
 * `timeoutMs` fails (the route answers 503) rather than falling back to this worker's own
 * counters: Prometheus would read that drop from the sum to one worker's share as a
 * counter reset, and rate() would then count the whole share again as new.
 */
export function workerMetricsSource(registry: Registry, timeoutMs = ASK_TIMEOUT_MS): MetricsSource {
  if (!process.send) throw new Error('workerMetricsSource needs the IPC channel of a node:cluster worker');
  const post = (message: MetricsMessage, onError?: (err: Error) => void) => {
    try {
      process.send?.(message, undefined, undefined, (err: Error | null) => err && onError?.(err));
    } catch (err) {
      onError?.(err as Error);
    }
  };
  const asks = new Map<number, (answer: { text?: string; error?: string }) => void>();
  let lastId = 0;

  process.on('message', (message: unknown) => {
    if (!isMetricsMessage(message)) return;
    if (message.type === METRICS_COLLECT) {
      registry.getMetricsAsJSON().then(
        (metrics) => post({ type: METRICS_SAMPLE, id: message.id, metrics: metrics as unknown as MetricJson[] }),
        (err: unknown) => post({ type: METRICS_SAMPLE, id: message.id, error: err instanceof Error ? err.message : String(err) }),
      );
    } else if (message.type === METRICS_ANSWER) {
      asks.get(message.id)?.(message);
    }
  });
  // Only now can this worker answer collects; the primary asks no worker before it says so.
  post({ type: METRICS_READY });

  return {
    contentType: registry.contentType,
    metrics() {
      return new Promise<string>((resolve, reject) => {
        const id = ++lastId;
        const settle = (answer: { text?: string; error?: string }) => {
          clearTimeout(timer);
          asks.delete(id);
          if (answer.text !== undefined) resolve(answer.text);
          else reject(new Error(answer.error ?? 'no metrics in the answer'));
        };
        const timer = setTimeout(() => settle({ error: `the primary sent no metrics within ${timeoutMs} ms` }), timeoutMs);
        asks.set(id, settle);
        post({ type: METRICS_ASK, id }, (err) => settle({ error: `could not ask the primary: ${err.message}` }));
      });
    },
  };
}
