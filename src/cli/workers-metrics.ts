import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { aggregateMetrics, type MetricJson } from '../observe/aggregate-metrics.js';
import {
  GATHER_TIMEOUT_MS,
  isMetricsMessage,
  METRICS_ANSWER,
  METRICS_ASK,
  METRICS_COLLECT,
  METRICS_READY,
  METRICS_SAMPLE,
  type MetricsMessage,
} from '../observe/cluster-protocol.js';

/**
 * The primary's half of GET /metrics under `serve --workers N`: on a worker's ask, collects
 * every ready worker's registry, sums them and answers the asking worker. A worker that exits
 * meanwhile is left out (the sum is over live workers); one that stays silent for `timeoutMs`
 * fails the whole gather, because a sum without it would look like a counter reset.
 * Asks that arrive while a gather runs share it: one fan-out at a time, however many scrape.
 */
interface Gather {
  sample(worker: Worker, message: { metrics?: MetricJson[]; error?: string }): void;
  gone(worker: Worker): void;
}

export function answerMetricsAsks(logger: Logger, timeoutMs = GATHER_TIMEOUT_MS): void {
  const ready = new WeakSet<Worker>();
  const gathers = new Map<number, Gather>();
  let lastId = 0;
  let running: Promise<string> | undefined;

  const gather = () =>
    new Promise<string>((resolve, reject) => {
      const id = ++lastId;
      const pending = new Set<Worker>();
      const samples: MetricJson[][] = [];
      // eslint-disable-next-line prefer-const -- finish() can run (a worker gone) before the timer is set; a const would throw there
      let timer: NodeJS.Timeout | undefined;
      const finish = (err?: Error) => {
        if (!gathers.delete(id)) return;
        clearTimeout(timer);
        if (err) return reject(err);
        try {
          resolve(aggregateMetrics(samples).metrics());
        } catch (failed) {
          reject(failed as Error);
        }
      };
      const gone = (worker: Worker) => {
        if (pending.delete(worker) && pending.size === 0) finish();
      };
      gathers.set(id, {
        sample(worker, message) {
          if (!pending.has(worker)) return;
          if (message.error !== undefined || !message.metrics)
            return finish(new Error(`worker ${worker.id} could not read its metrics: ${message.error}`));
          samples.push(message.metrics);
          gone(worker);
        },
        gone,
      });
      for (const worker of Object.values(cluster.workers ?? {})) {
        if (!worker || !ready.has(worker) || !worker.isConnected()) continue;
        pending.add(worker);
        worker.send(
          { type: METRICS_COLLECT, id } satisfies MetricsMessage,
          undefined,
          undefined,
          (err: Error | null) => err && gone(worker),
        );
      }
      if (pending.size === 0) return finish();
      timer = setTimeout(() => {
        const silent = [...pending].map((w) => w.id).join(', ');
        finish(new Error(`worker(s) ${silent} sent no metrics within ${timeoutMs} ms`));
      }, timeoutMs);
    });

  const answer = (worker: Worker, message: MetricsMessage) => {
    if (worker.isConnected()) worker.send(message, undefined, undefined, () => {});
  };

  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMetricsMessage(message)) return;
    if (message.type === METRICS_READY) ready.add(worker);
    else if (message.type === METRICS_SAMPLE) gathers.get(message.id)?.sample(worker, message);
    else if (message.type === METRICS_ASK) {
      running ??= gather().finally(() => (running = undefined));
      running.then(
        (text) => answer(worker, { type: METRICS_ANSWER, id: message.id, text }),
        (err: Error) => {
          logger.warn({ err: err.message, worker: worker.id }, 'metrics of all workers not gathered; the scrape gets a 503');
          answer(worker, { type: METRICS_ANSWER, id: message.id, error: err.message });
        },
      );
    }
  });
  cluster.on('disconnect', (worker) => {
    for (const gathering of gathers.values()) gathering.gone(worker);
  });
}
