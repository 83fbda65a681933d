import type { Express, Request, Response } from 'express';
import type { Registry } from 'prom-client';
import type { ConfigHolder } from '../config/holder.js';
import type { LoadedConfig } from '../config/load.js';
import { clientIp, trustedProxies, type TrustedProxies } from './client-ip.js';
import { sendJson } from './respond.js';

/**
 * GET /metrics in Prometheus text. When `metrics.clients` is set, anyone else gets the same
 * plain 404 as an unknown path. The allow-list is read from the active config on each scrape.
 */
interface Access {
  clients: TrustedProxies;
  proxies: TrustedProxies;
}

const accessByConfig = new WeakMap<LoadedConfig, Map<string, Access>>();

function accessOf(config: LoadedConfig, listenerId: string): Access {
  let byListener = accessByConfig.get(config);
  if (!byListener) accessByConfig.set(config, (byListener = new Map()));
  let access = byListener.get(listenerId);
  if (!access) {
    const listener = config.listeners.find((l) => l.http.id === listenerId);
    access = { clients: trustedProxies(config.main.metrics?.clients ?? []), proxies: trustedProxies(listener?.http.trusted_proxies ?? []) };
    byListener.set(listenerId, access);
  }
  return access;
}

export function mountMetrics(registry: Registry, holder: ConfigHolder, listenerId: string) {
  return (app: Express): void => {
    app.get('/metrics', async (req: Request, res: Response) => {
      const access = accessOf(holder.current, listenerId);
      if (access.clients.any) {
        const ip = clientIp(req, access.proxies);
        let ok = false;
        try {
          ok = ip !== '' && access.clients.list.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4');
        } catch {
          ok = false;
        }
        if (!ok) return sendJson(res, 404, { status: 'NotFound' });
      }
      const text = await registry.metrics();
      res.statusCode = 200;
      res.setHeader('content-type', registry.contentType);
      res.end(text);
    });
  };
}
