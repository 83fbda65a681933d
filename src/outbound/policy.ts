/**
 * Where config may make the server call: the operator's `outbound` section of the main file.
 * A URL in a pipe (an HTTP adapter, an OTP webhook) is an admin's input, and the server sends
 * passwords and codes to it, so its host and port must be listed by the operator. Checked
 * twice: at load (`refusal`: the URL's host and port are on the list) and at connect
 * (`lookup`: the name resolves once, and an internal address, loopback, link-local, private,
 * is refused unless that address or that name is listed for it; the socket connects to the
 * address checked, so a second DNS answer cannot swap it).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { internalKind, unmapped } from './internal-address.js';

/** One `allow` entry: a canonical host (as URL.hostname spells it) and a port, or none for the scheme's default. */
export interface AllowEntry {
  readonly host: string;
  readonly port: number | undefined;
}

export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/** A destination the policy refused; the caller fails as for an unreachable upstream. */
export class OutboundRefused extends Error {
  readonly code = 'OUTBOUND_REFUSED';
}

const ENTRY = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]/?#@\s]+)(?::(\d{1,5}))?$/;

/** Parses an `allow` entry (`host`, `host:port`, `[v6]:port`); a message when it is not one. */
export function parseAllowEntry(text: string): AllowEntry | string {
  const m = ENTRY.exec(text);
  if (!m) return `"${text}" is not host or host:port (IPv6 in brackets, no scheme or path)`;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return `"${text}": port ${port} is not 1-65535`;
  try {
    // The URL parser spells a host as every URL will: lower case, IPv4 and IPv6 in canonical form.
    return { host: new URL(`http://${m[1] as string}`).hostname, port };
  } catch {
    return `"${text}" is not a host name or IP address`;
  }
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

function portOf(url: URL): number {
  return url.port ? Number(url.port) : (DEFAULT_PORTS[url.protocol] ?? 0);
}

/** An address as URL.hostname spells it, so it compares with a listed literal. */
function hostOf(address: string): string {
  return isIP(address) === 6 ? new URL(`http://[${address}]`).hostname : address;
}

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

export class OutboundPolicy {
  private readonly internalNames: ReadonlySet<string>;

  /**
   * @param internalNames names (lower case) that may resolve to an internal address
   * @param resolve the DNS answer; tests give a fake one, since real DNS cannot be provoked
   */
  constructor(
    private readonly allow: readonly AllowEntry[],
    internalNames: Iterable<string>,
    private readonly resolve: Resolver = systemResolver,
  ) {
    this.internalNames = new Set([...internalNames].map((n) => n.toLowerCase()));
  }

  private lists(host: string, port: number, protocol: string): boolean {
    return this.allow.some((e) => e.host === host && (e.port ?? DEFAULT_PORTS[protocol]) === port);
  }

  /** Why the server may not call `url`, or undefined when its host and port are listed. */
  refusal(url: URL): string | undefined {
    if (!(url.protocol in DEFAULT_PORTS)) return `${url.protocol} is not http: or https:`;
    const port = portOf(url);
    if (this.lists(url.hostname, port, url.protocol)) return undefined;
    return `${url.hostname}:${port} is not on outbound.allow of the main file; expected a host:port the operator listed there`;
  }

  /**
   * The `lookup` of a request to `url` (its host already passed `refusal`). Node skips it for
   * an IP literal, which needs none: a listed literal is an explicit choice.
   */
  lookup(url: URL): Lookup {
    const port = portOf(url);
    return (hostname, options, callback) => {
      this.resolve(hostname).then(
        (answer) => {
          const addresses = answer.filter((a) => !options.family || a.family === options.family);
          const refused = addresses.map((a) => this.addressRefusal(hostname, a.address, port, url.protocol)).find((r) => r);
          if (refused !== undefined) return callback(new OutboundRefused(refused), []);
          const [first] = addresses;
          if (first === undefined) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
          if (options.all) callback(null, [...addresses]);
          else callback(null, first.address, first.family);
        },
        (err: NodeJS.ErrnoException) => callback(err, []),
      );
    };
  }

  private addressRefusal(hostname: string, address: string, port: number, protocol: string): string | undefined {
    const kind = internalKind(address);
    if (kind === undefined || this.internalNames.has(hostname.toLowerCase())) return undefined;
    if (this.lists(hostOf(address), port, protocol) || this.lists(hostOf(unmapped(address)), port, protocol)) return undefined;
    return `${hostname} resolves to ${address} (${kind}), which neither outbound.internal nor outbound.allow lists`;
  }
}
