import { isHighS } from '../../src/tokens/low-s.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { ManualClock } from '../support/clock.js';
import { startServer, type RunningServer } from '../support/server.js';
import type { ConfigFixture } from '../support/fixture.js';
import { MemoryStore } from '../../src/store/memory.js';
import { AUDIENCE, highS, ISSUER, tokenFixture, withLatency } from './support.js';

let fixture: ConfigFixture;
let server: RunningServer;

beforeAll(async () => {
  fixture = tokenFixture();
  server = await startServer({ configFile: fixture.mainFile });
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function userLogin(s: RunningServer = server, username = 'user-1') {
  const res = await s.call('user-login', { username });
  expect(res.status).toBe(200);
  return res.body as { access_token: string; refresh_token: string; expires_in: string; token_type: string };
}

describe('GET /.well-known/jwks.json', () => {
  it("publishes the public signing keys with kid, alg and use, cacheable for a short time: per tenant, and every tenant's together", async () => {
    const res = await fetch(`${server.url}/.well-known/jwks/demo.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const jwks = (await res.json()) as { keys: Record<string, string>[] };
    // An ES256 key (our tokens) and an RS256 one (the front door's default for id_tokens).
    expect(jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    const key = jwks.keys.find((k) => k.alg === 'ES256');
    for (const k of jwks.keys) expect(k).not.toHaveProperty('d');
    const all = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: Record<string, string>[] };
    expect(all.keys).toHaveLength(4);
    expect(all.keys).toEqual(expect.arrayContaining(jwks.keys));
    expect(key).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: expect.any(String),
      y: expect.any(String),
      kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      alg: 'ES256',
      use: 'sig',
    });
    expect(key).not.toHaveProperty('d');
  });
});

describe('token-mint kind system', () => {
  it('answers a 10-minute at+jwt with the registered claims and no refresh token', async () => {
    const res = await server.call('system-login', { username: 'till-001' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: '600' });
    const header = decodeProtectedHeader(res.body.access_token);
    const jwks = (await (await fetch(`${server.url}/.well-known/jwks/demo.json`)).json()) as { keys: { kid: string; alg: string }[] };
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: jwks.keys.find((k) => k.alg === 'ES256')?.kid });
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toEqual({
      iss: ISSUER,
      sub: 'till-001',
      aud: AUDIENCE,
      iat: expect.any(Number),
      exp: (claims.iat as number) + 600,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      tenant: 'demo',
      scope: 'data:read data:write',
      client_id: 'till-001',
    });
    expect(Math.abs((claims.iat as number) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('verifies independently with jose createRemoteJWKSet pointed at the running server', async () => {
    const { body } = await server.call('system-login', { username: 'till-002' });
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, {
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(payload.sub).toBe('till-002');
    expect(protectedHeader.typ).toBe('at+jwt');
  });

  it('gives every token its own jti', async () => {
    const calls = await Promise.all([1, 2, 3].map(() => server.call('system-login', { username: 'till-001' })));
    const jtis = new Set(calls.map((c) => decodeJwt(c.body.access_token).jti));
    expect(jtis.size).toBe(3);
  });
});

describe('token-verify (introspect)', () => {
  it('answers active, sub, scope and exp for a valid Bearer token', async () => {
    const { body } = await server.call('system-login', { username: 'till-001' });
    const res = await server.call('introspect', {}, bearer(body.access_token));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      active: 'true',
      sub: 'till-001',
      scope: 'data:read data:write',
      exp: String(decodeJwt(body.access_token).exp),
      tenant: 'demo',
    });
  });

  it('reads the token from a request property when configured', async () => {
    const { body } = await server.call('system-login', { username: 'till-001' });
    const res = await server.call('introspect-property', { token: body.access_token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active: 'true', sub: 'till-001' });
  });

  it('refuses a token of another tenant', async () => {
    const { body } = await server.call('system-login', { username: 'till-001' });
    const res = await server.call('introspect', {}, { ...bearer(body.access_token), tenant: 'acme' });
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
    expect(res.body.erroneousProperties).toEqual(['authorization']);
  });

  it('refuses a missing Authorization header and a non-Bearer scheme', async () => {
    const missing = await server.call('introspect', {});
    const basic = await server.call('introspect', {}, { authorization: 'Basic dGlsbDpwdw==' });
    for (const res of [missing, basic]) {
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
    }
  });
});

describe('token-mint kind user and token-refresh', () => {
  it('answers a 30-minute access token, configured claims, and a refresh token of its own type', async () => {
    const res = await server.call('user-login', { username: 'user-1', locale: 'sv-SE' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: '1800',
      refresh_token: expect.any(String),
    });
    const access = decodeJwt(res.body.access_token);
    expect(access).toMatchObject({
      sub: 'user-1',
      scope: 'profile',
      store: 'store-7',
      locale: 'sv-SE',
      tenant: 'demo',
      sid: expect.any(String),
    });
    // RFC 9068 wants client_id on every access token: a user token minted without a client names the tenant.
    expect(access.client_id).toBe('demo');
    expect(decodeProtectedHeader(res.body.refresh_token).typ).toBe('refresh+jwt');
    const refresh = decodeJwt(res.body.refresh_token);
    expect(refresh).toMatchObject({ iss: ISSUER, aud: ISSUER, sub: 'user-1', tenant: 'demo', sid: access.sid });
    expect(refresh).not.toHaveProperty('scope');
  });

  it('leaves an empty configured claim out', async () => {
    const { access_token } = await userLogin();
    expect(decodeJwt(access_token)).not.toHaveProperty('locale');
  });

  it('rotates: a new pair with the same claims, and the old refresh token is spent', async () => {
    const first = await userLogin();
    const res = await server.call('token-refresh', { refresh_token: first.refresh_token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: '1800',
      refresh_token: expect.any(String),
    });
    expect(res.body.refresh_token).not.toBe(first.refresh_token);
    const before = decodeJwt(first.access_token);
    const after = decodeJwt(res.body.access_token);
    expect(after).toMatchObject({ sub: before.sub, scope: before.scope, store: before.store, sid: before.sid });
    expect(after.jti).not.toBe(before.jti);
    const next = await server.call('token-refresh', { refresh_token: res.body.refresh_token });
    expect(next.status).toBe(200);
  });

  it('revokes the whole family when a refresh token is used twice', async () => {
    const first = await userLogin();
    const rotated = await server.call('token-refresh', { refresh_token: first.refresh_token });
    expect(rotated.status).toBe(200);
    const reuse = await server.call('token-refresh', { refresh_token: first.refresh_token });
    expect(reuse.status).toBe(403);
    expect(reuse.body).toMatchObject({ errorTranslationKeys: ['TOKEN_INVALID'], erroneousProperties: ['refresh_token'] });
    // Every later use of any token of the family fails: the newest refresh token and the access tokens.
    const later = await server.call('token-refresh', { refresh_token: rotated.body.refresh_token });
    expect(later.status).toBe(403);
    for (const token of [first.access_token, rotated.body.access_token]) {
      const res = await server.call('introspect', {}, bearer(token));
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
    }
  });

  async function parallelRefreshes(s: RunningServer) {
    const first = await userLogin(s);
    const results = await Promise.all(Array.from({ length: 20 }, () => s.call('token-refresh', { refresh_token: first.refresh_token })));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(403);
      expect(r.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
    }
    const sid = decodeJwt(first.refresh_token).sid as string;
    const record = JSON.parse((await s.app.store.get(`authpipe:{demo}:token-family:${sid}`)) as string);
    expect(record).toMatchObject({ revoked: true });
    const winner = ok[0]?.body as { refresh_token: string; access_token: string };
    expect((await s.call('token-refresh', { refresh_token: winner.refresh_token })).status).toBe(403);
    expect((await s.call('introspect', {}, bearer(winner.access_token))).status).toBe(403);
  }

  it('20 parallel refreshes with one token: exactly one succeeds and the family is revoked', async () => {
    await parallelRefreshes(server);
  });

  it('20 parallel refreshes when every store operation takes 5 ms, so all 20 read the family before any writes', async () => {
    const slowFixture = tokenFixture();
    const slow = await startServer({ configFile: slowFixture.mainFile, store: withLatency(new MemoryStore(), 5) });
    try {
      await parallelRefreshes(slow);
    } finally {
      await slow.close();
      slowFixture.cleanup();
    }
  });

  it('never accepts a refresh token as an access token, nor the other way round', async () => {
    const pair = await userLogin();
    const asAccess = await server.call('introspect', {}, bearer(pair.refresh_token));
    expect(asAccess.status).toBe(403);
    expect(asAccess.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
    const asRefresh = await server.call('token-refresh', { refresh_token: pair.access_token });
    expect(asRefresh.status).toBe(403);
    expect(asRefresh.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
    const { body: system } = await server.call('system-login', { username: 'till-001' });
    expect((await server.call('token-refresh', { refresh_token: system.access_token })).status).toBe(403);
    // Neither refusal consumed anything: the pair still works.
    expect((await server.call('token-refresh', { refresh_token: pair.refresh_token })).status).toBe(200);
  });

  it('refuses a refresh token at another tenant without touching its family', async () => {
    const pair = await userLogin();
    const res = await server.call('token-refresh', { refresh_token: pair.refresh_token }, { tenant: 'acme' });
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
    expect((await server.call('token-refresh', { refresh_token: pair.refresh_token })).status).toBe(200);
  });

  it('refuses a call without refresh_token', async () => {
    const res = await server.call('token-refresh', {});
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ errorTranslationKeys: ['TOKEN_INVALID'], erroneousProperties: ['refresh_token'] });
  });
});

describe('token-revoke (logout)', () => {
  it('revokes the family of a refresh token: refresh and access tokens stop working; twice is fine', async () => {
    const pair = await userLogin();
    expect((await server.call('introspect', {}, bearer(pair.access_token))).status).toBe(200);
    const res = await server.call('logout', { refresh_token: pair.refresh_token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect((await server.call('token-refresh', { refresh_token: pair.refresh_token })).status).toBe(403);
    expect((await server.call('introspect', {}, bearer(pair.access_token))).status).toBe(403);
    expect((await server.call('logout', { refresh_token: pair.refresh_token })).status).toBe(200);
  });

  it('revokes with a user access token in the Authorization header', async () => {
    const pair = await userLogin();
    expect((await server.call('logout-access', {}, bearer(pair.access_token))).status).toBe(200);
    expect((await server.call('token-refresh', { refresh_token: pair.refresh_token })).status).toBe(403);
  });

  it('refuses a system token (no login to revoke) and a garbage token', async () => {
    const { body } = await server.call('system-login', { username: 'till-001' });
    const system = await server.call('logout-access', {}, bearer(body.access_token));
    const garbage = await server.call('logout', { refresh_token: 'nope' });
    for (const res of [system, garbage]) {
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
    }
  });
});

describe('lifetimes, on a clock the test moves', () => {
  let clocked: RunningServer;
  let clockedFixture: ConfigFixture;
  const clock = new ManualClock(Date.UTC(2026, 0, 1));

  beforeAll(async () => {
    clockedFixture = tokenFixture();
    clocked = await startServer({ configFile: clockedFixture.mainFile, clock });
  });
  afterAll(async () => {
    await clocked.close();
    clockedFixture.cleanup();
  });

  it('accepts an access token within the clock tolerance after exp and refuses it beyond', async () => {
    const { body } = await clocked.call('system-login', { username: 'till-001' });
    clock.advance(600_000 + 4_000);
    expect((await clocked.call('introspect', {}, bearer(body.access_token))).status).toBe(200);
    clock.advance(2_000);
    const res = await clocked.call('introspect', {}, bearer(body.access_token));
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
  });

  it('ends a family at its absolute lifetime (30 days) whatever the rotations', async () => {
    const start = clock.now();
    let pair = await userLogin(clocked);
    for (let day = 0; day < 29; day++) {
      clock.advance(24 * 3600_000);
      const res = await clocked.call('token-refresh', { refresh_token: pair.refresh_token });
      expect(res.status).toBe(200);
      pair = res.body;
    }
    // Day 29: neither token of the family may outlive the family.
    const familyEnd = Math.floor((start + 30 * 24 * 3600_000) / 1000);
    expect(decodeJwt(pair.refresh_token).exp).toBe(familyEnd);
    clock.advance(23.99 * 3600_000);
    const last = await clocked.call('token-refresh', { refresh_token: pair.refresh_token });
    expect(last.status).toBe(200);
    expect(decodeJwt(last.body.access_token).exp).toBeLessThanOrEqual(familyEnd);
    clock.set((familyEnd + 10) * 1000);
    const res = await clocked.call('token-refresh', { refresh_token: last.body.refresh_token });
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
  });
});

describe('one token, one string', () => {
  it('tokens the engine mints carry low-S signatures only (so a token has one string)', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await server.call('system-login', { username: 'till-001' });
      expect(res.status).toBe(200);
      const token = res.body.access_token as string;
      expect(isHighS(Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url'))).toBe(false);
      // Its high-S twin verifies as ECDSA but is refused.
      const twin = await server.call('introspect', {}, { authorization: `Bearer ${highS(token)}` });
      expect([twin.status, twin.body.errorTranslationKeys]).toEqual([403, ['TOKEN_INVALID']]);
    }
  });
});
