import { describe, expect, it } from '@jest/globals';
import { VerifiedCache } from '../../src/credentials/verified-cache.js';

describe('VerifiedCache', () => {
  it('keys by every field: another tenant, kind, user, password or stored hash misses', () => {
    const cache = new VerifiedCache(10);
    const base = cache.keyOf('demo', 'till', 'till-001', 'pw', '$scrypt$a');
    cache.remember(base, 0, 60_000);
    expect(cache.has(cache.keyOf('demo', 'till', 'till-001', 'pw', '$scrypt$a'), 1)).toBe(true);
    for (const other of [
      cache.keyOf('acme', 'till', 'till-001', 'pw', '$scrypt$a'),
      cache.keyOf('demo', 'client', 'till-001', 'pw', '$scrypt$a'),
      cache.keyOf('demo', 'till', 'till-002', 'pw', '$scrypt$a'),
      cache.keyOf('demo', 'till', 'till-001', 'pw2', '$scrypt$a'),
      cache.keyOf('demo', 'till', 'till-001', 'pw', '$scrypt$b'),
    ]) {
      expect(cache.has(other, 1)).toBe(false);
    }
  });

  it('cannot be fooled by moving bytes between fields', () => {
    const cache = new VerifiedCache(10);
    expect(cache.keyOf('demo', 'till', 'ab', 'c', 'h')).not.toBe(cache.keyOf('demo', 'till', 'a', 'bc', 'h'));
  });

  it('uses a key of its own: two caches never agree', () => {
    expect(new VerifiedCache().keyOf('t', 'k', 'u', 'p', 'h')).not.toBe(new VerifiedCache().keyOf('t', 'k', 'u', 'p', 'h'));
  });

  it('holds no password: keys are 32-byte MACs', () => {
    const cache = new VerifiedCache(10);
    const key = cache.keyOf('demo', 'till', 'till-001', 'very-secret-password', 'h');
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(key).not.toContain('very-secret');
  });

  it('forgets an entry at its TTL', () => {
    const cache = new VerifiedCache(10);
    cache.remember('k', 1000, 60_000);
    expect(cache.has('k', 60_999)).toBe(true);
    expect(cache.has('k', 61_000)).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('stays within its capacity, dropping the least recently used', () => {
    const cache = new VerifiedCache(3);
    for (const k of ['a', 'b', 'c']) cache.remember(k, 0, 60_000);
    expect(cache.has('a', 1)).toBe(true); // a is now the most recent
    cache.remember('d', 2, 60_000);
    expect(cache.size).toBe(3);
    expect(cache.has('b', 3)).toBe(false);
    expect(cache.has('a', 3)).toBe(true);
    expect(cache.has('c', 3)).toBe(true);
    expect(cache.has('d', 3)).toBe(true);
    for (let i = 0; i < 1000; i++) cache.remember(`x${i}`, 4, 60_000);
    expect(cache.size).toBe(3);
  });

  it('when every entry was used, the oldest goes and the new entry stays; expired entries go first', () => {
    const cache = new VerifiedCache(3);
    for (const k of ['a', 'b', 'c']) cache.remember(k, 0, 60_000);
    for (const k of ['a', 'b', 'c']) expect(cache.has(k, 1)).toBe(true);
    cache.remember('d', 2, 60_000);
    expect(cache.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].filter((k) => cache.has(k, 3))).toEqual(['b', 'c', 'd']);
    const short = new VerifiedCache(2);
    short.remember('old', 0, 10);
    short.remember('live', 0, 60_000);
    expect(short.has('old', 5)).toBe(true); // used, but past its TTL when room is needed
    short.remember('new', 20, 60_000);
    expect(['old', 'live', 'new'].filter((k) => short.has(k, 21))).toEqual(['live', 'new']);
  });

  it('does nothing with a zero TTL', () => {
    const cache = new VerifiedCache(3);
    cache.remember('k', 0, 0);
    expect(cache.size).toBe(0);
  });
});
