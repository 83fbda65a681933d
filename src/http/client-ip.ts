import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { headerValues } from '../engine/headers.js';

/**
 * The caller's address. X-Forwarded-For is read only when the connection comes from a
 * configured trusted proxy, and then from the right: the first address that is not itself a
 * trusted proxy is the client. A caller cannot put its own word in front of a proxy's.
 */
export interface TrustedProxies {
  readonly any: boolean;
  readonly list: BlockList;
}

export function trustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return { any: entries.length > 0, list };
}

/** Checks entries at load so a typo fails the load, not a request. Returns a message or null. */
export function invalidProxyEntry(entry: string): string | null {
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return `"${entry}" is not an IP address or CIDR range`;
  if (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)))
    return `"${entry}" has a bad prefix length`;
  return null;
}

function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Whether `address` is in the list (an allow-list of clients, or the trusted proxies). */
export function listed(list: TrustedProxies, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

export function clientIp(req: IncomingMessage, proxies: TrustedProxies): string {
  const remote = normalizeAddress(req.socket.remoteAddress);
  if (!proxies.any || !listed(proxies, remote)) return remote;
  const forwarded = headerValues(req.rawHeaders, 'x-forwarded-for');
  if (!forwarded) return remote;
  const hops = forwarded
    .join(',')
    .split(',')
    .map((h) => normalizeAddress(h.trim()));
  let client = remote;
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    const hop = hops[i] as string;
    if (isIP(hop) === 0) break; // a garbled hop: trust nothing to its left
    client = hop;
    if (!listed(proxies, hop)) break;
  }
  return client;
}
