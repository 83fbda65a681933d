/**
 * Concurrent refresh (issue 30): a refresh token used again within `oidc.refresh_grace_seconds`
 * of its first use (two tabs, a retried request) gets another valid pair of the same login; a
 * use after the window is reuse and ends the login. Driven by openid-client and oauth4webapi.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import { MemoryStore } from '../../src/store/memory.js';
import { systemClock } from '../../src/engine/clock.js';
import { tenantPrefix } from '../../src/store/store.js';
import { CookieJar, discover, passwordTokens, setRefreshGrace, startOidcDemo, type OidcDemo } from './support.js';

const SHOP_WEB = 'http://localhost:3000/callback';

let demo: OidcDemo;
let store: MemoryStore;
let config: client.Configuration;
beforeAll(async () => {
  store = new MemoryStore(systemClock);
  demo = await startOidcDemo({ store });
  config = await discover(demo.issuer(), 'shop-web');
});
afterAll(() => demo?.close());

async function signIn() {
  return passwordTokens(new CookieJar(), config, SHOP_WEB, 'alice', 'alice-pass-1');
}

/** Moves a used refresh token's first use `seconds` into the past, as if that long had gone by. */
async function ageUse(refreshToken: string, seconds: number) {
  const key = `${tenantPrefix('demo')}oidc:RefreshToken:${refreshToken}`;
  const text = await store.get(key);
  if (text === null) throw new Error('no such refresh token record');
  const payload = JSON.parse(text) as { consumed?: number };
  expect(typeof payload.consumed).toBe('number');
  payload.consumed = (payload.consumed as number) - seconds;
  await store.set(key, JSON.stringify(payload), (await store.ttl(key)) ?? undefined);
}

const active = async (token: string) => (await client.tokenIntrospection(config, token)).active;

describe('refresh grace window (demo: 5 s)', () => {
  it('gives two simultaneous refreshes each a valid pair, and keeps the login', async () => {
    const tokens = await signIn();
    const rt = tokens.refresh_token as string;
    const [one, two] = await Promise.all([client.refreshTokenGrant(config, rt), client.refreshTokenGrant(config, rt)]);
    expect(one.refresh_token).not.toBe(two.refresh_token);
    for (const pair of [one, two]) {
      expect(await active(pair.access_token)).toBe(true);
      expect((await client.refreshTokenGrant(config, pair.refresh_token as string)).access_token).toBeDefined();
    }
  });

  it('honours the immediate repeat of a used token (a retried request), with oauth4webapi', async () => {
    const tokens = await signIn();
    const rt = tokens.refresh_token as string;
    const first = await client.refreshTokenGrant(config, rt);
    const as = await oauth.processDiscoveryResponse(
      new URL(demo.issuer()),
      await oauth.discoveryRequest(new URL(demo.issuer()), { [oauth.allowInsecureRequests]: true }),
    );
    const app = { client_id: 'shop-web' };
    const res = await oauth.refreshTokenGrantRequest(as, app, oauth.None(), rt, { [oauth.allowInsecureRequests]: true });
    const repeat = await oauth.processRefreshTokenResponse(as, app, res);
    expect(typeof repeat.refresh_token).toBe('string');
    expect(await active(first.access_token)).toBe(true);
    expect(await active(repeat.access_token)).toBe(true);
  });

  it('ends the login when a used token comes back after the window', async () => {
    const tokens = await signIn();
    const rt = tokens.refresh_token as string;
    const rotated = await client.refreshTokenGrant(config, rt);
    await ageUse(rt, 6);
    await expect(client.refreshTokenGrant(config, rt)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(client.refreshTokenGrant(config, rotated.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await active(rotated.access_token)).toBe(false);
  });

  it('does not slide: a repeat inside the window keeps the first use as the start', async () => {
    const tokens = await signIn();
    const rt = tokens.refresh_token as string;
    await client.refreshTokenGrant(config, rt);
    await ageUse(rt, 3);
    await client.refreshTokenGrant(config, rt);
    await ageUse(rt, 3);
    await expect(client.refreshTokenGrant(config, rt)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});

describe('refresh_grace_seconds: 0', () => {
  it('counts the immediate repeat as reuse', async () => {
    const strict = await startOidcDemo({ edit: (f) => setRefreshGrace(f, 0) });
    try {
      const web = await discover(strict.issuer(), 'shop-web');
      const tokens = await passwordTokens(new CookieJar(), web, SHOP_WEB, 'bob', 'bob-pass-1');
      const rotated = await client.refreshTokenGrant(web, tokens.refresh_token as string);
      await expect(client.refreshTokenGrant(web, tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
      await expect(client.refreshTokenGrant(web, rotated.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    } finally {
      await strict.close();
    }
  });
});
