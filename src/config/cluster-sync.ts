/**
 * Admin changes on every worker of `serve --workers N`. An admin write reloads the worker it
 * landed on; before that worker answers, it asks the primary to have every other worker
 * reload to the same version and waits for their acknowledgements. The primary fans the ask
 * out, collects one ack per live worker and answers; a worker that stays silent for
 * PROPAGATE_TIMEOUT_MS fails the round, so the admin learns that the change is not yet
 * everywhere instead of being told it is. Types are prefixed so they never meet node's or
 * prom-client's messages (same scheme as observe/cluster-protocol.ts).
 */
export const CONFIG_CHANGED = 'authpipe:config-changed'; // worker → primary: I reloaded to `version`; make the others
export const CONFIG_RELOAD = 'authpipe:config-reload'; // primary → each other worker
export const CONFIG_RELOADED = 'authpipe:config-reloaded'; // worker → primary: done, now serving `version`
export const CONFIG_SYNCED = 'authpipe:config-synced'; // primary → the asking worker: all done, or who is missing

/** The primary gives up on silent workers first, so the asking worker still gets its answer. */
export const PROPAGATE_TIMEOUT_MS = 2000;
const ASK_PROPAGATE_TIMEOUT_MS = 2500;

export type ConfigSyncMessage =
  | { type: typeof CONFIG_CHANGED; id: number; version: string }
  | { type: typeof CONFIG_RELOAD; id: number; version: string }
  | { type: typeof CONFIG_RELOADED; id: number; version: string | null; error?: string }
  | { type: typeof CONFIG_SYNCED; id: number; error?: string };

const TYPES: ReadonlySet<unknown> = new Set([CONFIG_CHANGED, CONFIG_RELOAD, CONFIG_RELOADED, CONFIG_SYNCED]);

export function isConfigSyncMessage(message: unknown): message is ConfigSyncMessage {
  return typeof message === 'object' && message !== null && TYPES.has((message as { type?: unknown }).type);
}

/** Resolves when every worker serves `version`; rejects, saying who is missing, otherwise. */
export type Propagate = (version: string) => Promise<void>;

/**
 * The worker's half. `reload` is asked for by the primary when another worker changed the
 * config; it returns the version now serving (null when the reload was refused).
 */
export function workerConfigSync(reload: (version: string) => string | null, timeoutMs = ASK_PROPAGATE_TIMEOUT_MS): Propagate {
  if (!process.send) throw new Error('workerConfigSync needs the IPC channel of a node:cluster worker');
  const post = (message: ConfigSyncMessage, onError?: (err: Error) => void) => {
    try {
      process.send?.(message, undefined, undefined, (err: Error | null) => err && onError?.(err));
    } catch (err) {
      onError?.(err as Error);
    }
  };
  const asks = new Map<number, (error?: string) => void>();
  let lastId = 0;
  process.on('message', (message: unknown) => {
    if (!isConfigSyncMessage(message)) return;
    if (message.type === CONFIG_RELOAD) {
      let version: string | null;
      let error: string | undefined;
      try {
        version = reload(message.version);
      } catch (err) {
        version = null;
        error = (err as Error).message;
      }
      post({ type: CONFIG_RELOADED, id: message.id, version, ...(error !== undefined ? { error } : {}) });
    } else if (message.type === CONFIG_SYNCED) {
      asks.get(message.id)?.(message.error);
    }
  });
  return (version) =>
    new Promise<void>((resolve, reject) => {
      const id = ++lastId;
      const settle = (error?: string) => {
        clearTimeout(timer);
        asks.delete(id);
        if (error === undefined) resolve();
        else reject(new Error(error));
      };
      const timer = setTimeout(() => settle(`the primary did not confirm within ${timeoutMs} ms`), timeoutMs);
      asks.set(id, settle);
      post({ type: CONFIG_CHANGED, id, version }, (err) => settle(`could not ask the primary: ${err.message}`));
    });
}
