/**
 * The names the management listener answers for (`management.hosts`). A page on another
 * origin can point its own DNS name at 127.0.0.1 (DNS rebinding) and read whatever answers
 * there; it cannot make the browser send one of our names in `Host`, so the listener answers
 * only the names listed here and refuses any other Host before routing. The console's
 * redirect URIs are these names too, never one read from a request.
 *
 * An entry is a bare name (`localhost`, `127.0.0.1`, `[::1]`, `admin.internal`), served at the
 * port the listener listens on, or an origin (`https://admin.example.com`) for a name a proxy
 * serves it at (the proxy must pass the browser's Host on).
 */

/** A host name, an IPv4 address or a bracketed IPv6 address; no port. */
const BARE_NAME = /^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)$/i;
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);
/** When the listener listens on every address, only these are names of this machine for sure. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'] as const;

/** What is wrong with an entry of `management.hosts`, or null. */
export function hostEntryProblem(entry: string): string | null {
  if (BARE_NAME.test(entry)) return null;
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return 'must be a host name (localhost, 127.0.0.1, [::1]) or an origin (https://admin.example.com)';
  }
  const origin = (url.protocol === 'http:' || url.protocol === 'https:') && entry.toLowerCase().replace(/\/$/, '') === url.origin;
  return origin ? null : 'an origin is scheme://host[:port], without a default port, path, query or credentials';
}

/** The configured entries, or the defaults: the listener's own address and localhost; loopback names only for a wildcard address. */
export function hostEntries(configured: readonly string[], listenHost: string): readonly string[] {
  if (configured.length > 0) return configured;
  if (WILDCARDS.has(listenHost)) return LOOPBACK_NAMES;
  const own = listenHost.includes(':') && !listenHost.startsWith('[') ? `[${listenHost}]` : listenHost.toLowerCase();
  return own === 'localhost' ? ['localhost'] : [own, 'localhost'];
}

export interface HostName {
  /** As the browser writes it: the console's redirect URIs start with it. */
  readonly origin: string;
  /** The `Host` values (lower case) that name it. */
  readonly hosts: readonly string[];
}

/** Each entry as its origin and Host values; a bare name is served at `port`. */
export function hostNames(entries: readonly string[], port: number): HostName[] {
  return entries.map((entry) => {
    const url = new URL(BARE_NAME.test(entry) ? `http://${entry}:${port}` : entry);
    // url.host leaves a default port out, as browsers do in Host; a client may still write it.
    const hosts = [url.host];
    if (url.port === '') hosts.push(`${url.hostname}:${url.protocol === 'https:' ? 443 : 80}`);
    return { origin: url.origin, hosts };
  });
}
