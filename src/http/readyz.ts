import type { Express, Request, Response } from 'express';
import type { ConfigHolder } from '../config/holder.js';
import type { PublishedStatus } from '../config/published-version.js';
import { clientAllowed } from './client-access.js';
import { sendJson } from './respond.js';

/** A store ping answers within its own deadline; this bounds /readyz whatever the store. */
const READY_PING_MS = 1000;

function within(pending: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([pending, late]).finally(() => clearTimeout(timer));
}

/** GET /readyz: 200 when the config is loaded and the store answers a ping, else 503. */
export function mountReadyz(app: Express, holder: ConfigHolder, listenerId: string, published?: () => PublishedStatus | null): void {
  app.get('/readyz', async (req: Request, res: Response) => {
    const config = holder.current;
    const detailed = clientAllowed(req, config, listenerId, 'readyz', config.main.readyz.clients);
    try {
      await within(config.services.store.ping(), READY_PING_MS);
      sendJson(res, 200, { status: 'ready', ...reloadStatus(holder, detailed, published?.()) });
    } catch {
      sendJson(res, 503, { status: 'unavailable', ...reloadStatus(holder, detailed, published?.()), store: 'down' });
    }
  });
}

/**
 * The active config version, when it was swapped in, and the last refused reload since then
 * (null when the files on disk are what is serving), and the version published on the store
 * with whether this engine serves it. Its issues name files, pointers and env
 * variable names, so only `readyz.clients` see them; capped so a broken file cannot bloat it.
 */
export function reloadStatus(holder: ConfigHolder, detailed: boolean, published?: PublishedStatus | null) {
  const failure = holder.lastError;
  return {
    version: holder.current.version,
    loadedAt: holder.loadedAt,
    lastReloadError: failure && {
      at: failure.at,
      count: failure.issues.length,
      ...(detailed ? { issues: failure.issues.slice(0, 10) } : {}),
    },
    // The version other engines on the store serve, and whether this one does too (its files may differ).
    ...(published ? { published } : {}),
  };
}
