import { describe, expect, it } from '@jest/globals';
import type { LookupAddress } from 'node:dns';
import { internalKind, unmapped } from '../../src/outbound/internal-address.js';
import { OutboundPolicy, OutboundRefused, parseAllowEntry, type AllowEntry } from '../../src/outbound/policy.js';

/** The outbound policy's rules on their own: which addresses are internal, how entries read, what a lookup hands the socket. */
describe('internal addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd00::1', 'private'],
    ['fc00::1', 'private'],
    ['100.100.100.200', 'shared'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['0:0:0:0:0:ffff:10.0.0.1', 'private'],
    ['not-an-address', 'not an IP address'],
  ])('%s is %s', (address, kind) => {
    expect(internalKind(address)).toBe(kind);
  });

  it.each(['8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])('%s is public', (address) => {
    expect(internalKind(address)).toBeUndefined();
  });

  it('unmaps an IPv4-mapped address in either spelling, and leaves others alone', () => {
    expect(unmapped('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(unmapped('::FFFF:169.254.169.254')).toBe('169.254.169.254');
    expect(unmapped('fd00::1')).toBe('fd00::1');
    expect(unmapped('10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('allow entries', () => {
  it('reads host, host:port and [v6]:port, spelled as URLs spell them', () => {
    expect(parseAllowEntry('SMS.Example.com:443')).toEqual({ host: 'sms.example.com', port: 443 });
    expect(parseAllowEntry('10.1.2.3')).toEqual({ host: '10.1.2.3', port: undefined });
    expect(parseAllowEntry('[0:0::1]:8443')).toEqual({ host: '[::1]', port: 8443 });
    expect(parseAllowEntry('2130706433:80')).toEqual({ host: '127.0.0.1', port: 80 });
  });

  it.each(['https://x.example.com', 'x.example.com/path', 'x.example.com:0', 'x.example.com:70000', 'u@x.example.com', '::1', 'a b'])(
    'refuses %s',
    (text) => {
      expect(typeof parseAllowEntry(text)).toBe('string');
    },
  );
});

describe('the lookup a request connects with', () => {
  const entries = (...texts: string[]) => texts.map((t) => parseAllowEntry(t) as AllowEntry);
  const answer =
    (...addresses: LookupAddress[]) =>
    () =>
      Promise.resolve(addresses);
  const lookUp = (policy: OutboundPolicy, url: string, all: boolean) =>
    new Promise<unknown>((resolve) =>
      policy.lookup(new URL(url))(new URL(url).hostname, { all }, (err, address, family) =>
        resolve(err ? err : all ? address : { address, family }),
      ),
    );

  it('hands the socket the address it checked, one or all', async () => {
    const policy = new OutboundPolicy(entries('gw.example.com:443'), [], answer({ address: '203.0.113.7', family: 4 }));
    expect(await lookUp(policy, 'https://gw.example.com/x', false)).toEqual({ address: '203.0.113.7', family: 4 });
    expect(await lookUp(policy, 'https://gw.example.com/x', true)).toEqual([{ address: '203.0.113.7', family: 4 }]);
  });

  it('refuses a name when any of its addresses is internal and not listed', async () => {
    const policy = new OutboundPolicy(
      entries('gw.example.com:443'),
      [],
      answer({ address: '203.0.113.7', family: 4 }, { address: '10.0.0.5', family: 4 }),
    );
    const err = await lookUp(policy, 'https://gw.example.com/x', true);
    expect(err).toBeInstanceOf(OutboundRefused);
    expect((err as Error).message).toBe(
      'gw.example.com resolves to 10.0.0.5 (private), which neither outbound.internal nor outbound.allow lists',
    );
  });

  it('lets it through when the name is under internal, or that address is listed with that port', async () => {
    const internal = answer({ address: '10.0.0.5', family: 4 });
    expect(
      await lookUp(new OutboundPolicy(entries('gw.example.com:443'), ['GW.example.com'], internal), 'https://gw.example.com/', false),
    ).toEqual({
      address: '10.0.0.5',
      family: 4,
    });
    expect(
      await lookUp(new OutboundPolicy(entries('gw.example.com:443', '10.0.0.5:443'), [], internal), 'https://gw.example.com/', false),
    ).toEqual({
      address: '10.0.0.5',
      family: 4,
    });
    expect(
      await lookUp(new OutboundPolicy(entries('gw.example.com:443', '10.0.0.5:8443'), [], internal), 'https://gw.example.com/', false),
    ).toBeInstanceOf(OutboundRefused);
  });

  it('passes a DNS failure on, and fails a name with no address', async () => {
    const failing = new OutboundPolicy(entries('gw.example.com'), [], () =>
      Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' })),
    );
    expect(await lookUp(failing, 'https://gw.example.com/', false)).toMatchObject({ code: 'ENOTFOUND' });
    expect(await lookUp(new OutboundPolicy(entries('gw.example.com'), [], answer()), 'https://gw.example.com/', true)).toMatchObject({
      code: 'ENOTFOUND',
    });
  });
});
