import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigFixture } from '../support/fixture.js';
import type { Store } from '../../src/store/store.js';
import { lowS } from '../../src/tokens/low-s.js';

export const ISSUER = 'https://auth.test.example';
export const AUDIENCE = 'https://api.test.example';

const TOKENS_SECTION = { keys_dir: '../var/keys', issuer: ISSUER, audience: AUDIENCE, algorithm: 'ES256' };

/**
 * Test-only pipes around the token valves. Real logins (till-login, client-login) come from
 * the credential valves; here a property-set stands in for "authenticated as request.username".
 */
const TOKEN_PIPES: Record<string, unknown> = {
  'system-login': {
    valves: [
      { name: 'property-set', config: { properties: { sub: '{{request.username}}', scope: 'data:read data:write' } } },
      { name: 'token-mint', config: { kind: 'system' } },
    ],
    response: ['access_token', 'token_type', 'expires_in'],
  },
  'user-login': {
    valves: [
      { name: 'property-set', config: { properties: { sub: '{{request.username}}', scope: 'profile', store: 'store-7' } } },
      { name: 'token-mint', config: { kind: 'user', claims: { store: '{{item.store}}', locale: '{{request.locale}}' } } },
    ],
    response: ['access_token', 'token_type', 'expires_in', 'refresh_token'],
  },
  'token-refresh': { valves: [{ name: 'token-refresh' }], response: ['access_token', 'token_type', 'expires_in', 'refresh_token'] },
  introspect: {
    valves: [{ name: 'token-verify' }, { name: 'property-set', config: { properties: { active: 'true' } } }],
    response: ['active', 'sub', 'scope', 'exp', 'tenant', 'store'],
  },
  'introspect-property': {
    valves: [
      { name: 'token-verify', config: { property: 'token' } },
      { name: 'property-set', config: { properties: { active: 'true' } } },
    ],
    response: ['active', 'sub'],
  },
  logout: { valves: [{ name: 'token-revoke' }], response: [] },
  'logout-access': { valves: [{ name: 'token-revoke', config: { type: 'access' } }], response: [] },
};

export function tokenFixture(
  options: { tokens?: Record<string, unknown>; pipes?: Record<string, unknown>; http?: Record<string, unknown> } = {},
): ConfigFixture {
  const pipes = { ...TOKEN_PIPES, ...options.pipes };
  const operations = Object.keys(pipes);
  return ConfigFixture.minimal(
    [
      { id: 'demo', allowedOperation: operations },
      { id: 'acme', allowedOperation: operations },
    ],
    pipes,
    {
      tokens: { ...TOKENS_SECTION, ...options.tokens },
      ...(options.http ? { http_configuration: [{ id: 'http', host: '127.0.0.1', port: 0, ...options.http }] } : {}),
    },
  );
}

/** The private ES256 signing key the server generated into the fixture for `tenant` (to forge near-valid tokens). */
export function fixtureKey(fixture: ConfigFixture, tenant = 'demo'): { kid: string; key: KeyObject; file: string } {
  const dir = join(fixture.dir, 'var', 'keys', tenant);
  const jwks = readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .map((name) => ({ name, jwk: JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, string> }));
  const found = jwks.find((k) => k.jwk.alg === 'ES256');
  if (!found) throw new Error('no key generated');
  const { name } = found;
  const jwk = found.jwk as { kid: string; kty: string; crv: string; x: string; y: string; d: string };
  return {
    kid: jwk.kid,
    key: createPrivateKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d }, format: 'jwk' }),
    file: join(dir, name),
  };
}

/**
 * A real MemoryStore behind a network-like delay on every operation, so that parallel calls
 * overlap between their reads and writes as they would on Redis.
 */
export function withLatency(store: Store, ms: number): Store {
  const later = <T>(op: () => Promise<T>) => new Promise<T>((resolve, reject) => setTimeout(() => op().then(resolve, reject), ms));
  return {
    get: (k) => later(() => store.get(k)),
    set: (k, v, t) => later(() => store.set(k, v, t)),
    incr: (k, t, b) => later(() => store.incr(k, t, b)),
    take: (k) => later(() => store.take(k)),
    compareAndSet: (k, e, v, t) => later(() => store.compareAndSet(k, e, v, t)),
    del: (k) => later(() => store.del(k)),
    ttl: (k) => later(() => store.ttl(k)),
    listPush: (k, v, max) => later(() => store.listPush(k, v, max)),
    listPop: (k) => later(() => store.listPop(k)),
    listMove: (from, to) => later(() => store.listMove(from, to)),
    listRemove: (k, v) => later(() => store.listRemove(k, v)),
    listRange: (k, n) => later(() => store.listRange(k, n)),
    listLength: (k) => later(() => store.listLength(k)),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}

/** A JWT segment: a string as is, anything else as JSON, base64url-encoded. */
export const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT signed with ES256 as the engine signs (the low-S form, the only one it accepts), to forge near-valid tokens. */
export function es256(header: object, payload: object, key: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${lowS(sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })).toString('base64url')}`;
}

/** The same signature in its high-S form: (r, n − s) is valid ECDSA too. */
export function highS(token: string): string {
  const at = token.lastIndexOf('.');
  const raw = Buffer.from(token.slice(at + 1), 'base64url');
  const n = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
  const s = (n - BigInt(`0x${raw.subarray(32).toString('hex')}`)).toString(16).padStart(64, '0');
  return `${token.slice(0, at)}.${Buffer.concat([raw.subarray(0, 32), Buffer.from(s, 'hex')]).toString('base64url')}`;
}
