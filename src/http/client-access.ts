import type { IncomingMessage } from 'node:http';
import type { LoadedConfig } from '../config/load.js';
import { clientIp, listed, trustedProxies, type TrustedProxies } from './client-ip.js';

/**
 * Who may see an operator route (or the sensitive part of one): an allow-list from the main
 * file, matched against the client address with the listener's trusted proxies honoured.
 * Built once per config version, listener and route, and read from the active config on
 * each request, so a reload changes it.
 */
interface Access {
  readonly clients: TrustedProxies;
  readonly proxies: TrustedProxies;
}

/** The listener id operator routes pass for the management listener (not a valid http_configuration id clash: it holds a NUL). */
export const MANAGEMENT_LISTENER = '\u0000management';

/** Who sees why a reload was refused, unless `readyz.clients` says otherwise: the machine itself. */

const accessByConfig = new WeakMap<LoadedConfig, Map<string, Access>>();

export function clientAllowed(
  req: IncomingMessage,
  config: LoadedConfig,
  listenerId: string,
  route: string,
  clients: readonly string[],
): boolean {
  let byKey = accessByConfig.get(config);
  if (!byKey) accessByConfig.set(config, (byKey = new Map()));
  const key = `${listenerId}\0${route}`;
  let access = byKey.get(key);
  if (!access) {
    const proxies =
      listenerId === MANAGEMENT_LISTENER
        ? config.main.management.trusted_proxies
        : config.listeners.find((l) => l.http.id === listenerId)?.http.trusted_proxies;
    access = { clients: trustedProxies(clients), proxies: trustedProxies(proxies ?? []) };
    byKey.set(key, access);
  }
  return listed(access.clients, clientIp(req, access.proxies));
}
