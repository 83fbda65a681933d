/**
 * Which IP addresses are inside the machine or its network: an outbound call from config
 * reaches one of these only when the operator listed it (or the name resolving to it) by
 * hand, since a URL an admin typed must not reach the metadata service, a loopback admin
 * port or a private host (src/outbound/policy.ts).
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

const RANGES: readonly [kind: string, network: string, prefix: number, family: 'ipv4' | 'ipv6'][] = [
  // 0.0.0.0 connects to this host on Linux: "unspecified" covers its whole /8.
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  // Shared address space: carrier NAT, and some clouds' metadata (100.100.100.200).
  ['shared', '100.64.0.0', 10, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['private', 'fc00::', 7, 'ipv6'],
];

const LISTS = new Map<string, BlockList>();
for (const [kind, network, prefix, family] of RANGES) {
  const list = LISTS.get(kind) ?? new BlockList();
  list.addSubnet(network, prefix, family);
  LISTS.set(kind, list);
}

/**
 * The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d, also written ::ffff:7f00:1)
 * stands for; the address itself otherwise. The kernel connects a mapped address to the
 * IPv4 one, so it must be judged as that.
 */
export function unmapped(address: string): string {
  if (!isIPv6(address)) return address;
  const groups = expand(address);
  if (groups === undefined || groups.slice(0, 5).some((g) => g !== 0) || groups[5] !== 0xffff) return address;
  const [hi, lo] = [groups[6] as number, groups[7] as number];
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail included). */
function expand(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = (dotted[1] as string).split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = part(head);
  const right = part(tail);
  const groups = tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** The kind of internal range an IP address is in (loopback, link-local, private, shared, unspecified), or undefined for a public one. */
export function internalKind(address: string): string | undefined {
  const plain = unmapped(address);
  const family = isIPv4(plain) ? 'ipv4' : isIPv6(plain) ? 'ipv6' : undefined;
  // Not an address at all: treat as internal, so a surprise fails closed.
  if (family === undefined) return 'not an IP address';
  for (const [kind, list] of LISTS) if (list.check(plain, family)) return kind;
  return undefined;
}
