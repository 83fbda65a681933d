import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import {
  CONFIG_CHANGED,
  CONFIG_RELOAD,
  CONFIG_RELOADED,
  CONFIG_SYNCED,
  isConfigSyncMessage,
  PROPAGATE_TIMEOUT_MS,
  type ConfigSyncMessage,
} from '../config/cluster-sync.js';

/**
 * The primary's half of config/cluster-sync.ts: when a worker reports an admin change, every
 * other live worker is told to reload; the asking worker hears back once each has answered
 * with the same version, or why not (a refusal, another version, silence past `timeoutMs`).
 * A worker that exits meanwhile is left out: its replacement loads the files at start.
 */
export function answerConfigChanges(logger: Logger, timeoutMs = PROPAGATE_TIMEOUT_MS): void {
  const rounds = new Map<
    number,
    { ack(worker: Worker, message: Extract<ConfigSyncMessage, { type: typeof CONFIG_RELOADED }>): void; gone(worker: Worker): void }
  >();
  let lastId = 0;

  const send = (worker: Worker, message: ConfigSyncMessage, onError?: () => void) => {
    if (!worker.isConnected()) return onError?.();
    worker.send(message, undefined, undefined, (err: Error | null) => err && onError?.());
  };

  const propagate = (from: Worker, asked: Extract<ConfigSyncMessage, { type: typeof CONFIG_CHANGED }>) => {
    const id = ++lastId;
    const pending = new Set<Worker>();
    const problems: string[] = [];
    // eslint-disable-next-line prefer-const -- finish() can run (a worker gone) before the timer is set; a const would throw there
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (!rounds.delete(id)) return;
      clearTimeout(timer);
      if (problems.length > 0) logger.warn({ version: asked.version, problems }, 'config change not confirmed by every worker');
      send(from, { type: CONFIG_SYNCED, id: asked.id, ...(problems.length > 0 ? { error: problems.join('; ') } : {}) });
    };
    const gone = (worker: Worker) => {
      if (pending.delete(worker) && pending.size === 0) finish();
    };
    rounds.set(id, {
      ack(worker, message) {
        if (!pending.has(worker)) return;
        if (message.version !== asked.version)
          problems.push(`worker ${worker.id} serves ${message.version ?? 'its old config'}${message.error ? ` (${message.error})` : ''}`);
        gone(worker);
      },
      gone,
    });
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (!worker || worker === from || !worker.isConnected()) continue;
      pending.add(worker);
      send(worker, { type: CONFIG_RELOAD, id, version: asked.version }, () => gone(worker));
    }
    if (pending.size === 0) return finish();
    timer = setTimeout(() => {
      problems.push(`worker(s) ${[...pending].map((w) => w.id).join(', ')} did not confirm within ${timeoutMs} ms`);
      finish();
    }, timeoutMs);
  };

  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isConfigSyncMessage(message)) return;
    if (message.type === CONFIG_CHANGED) propagate(worker, message);
    else if (message.type === CONFIG_RELOADED) rounds.get(message.id)?.ack(worker, message);
  });
  cluster.on('disconnect', (worker) => {
    for (const round of rounds.values()) round.gone(worker);
  });
}
