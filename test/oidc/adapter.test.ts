/**
 * oidc-provider's storage adapter on our store, memory and a real Redis: the adapter
 * contract (TTL, consume, uid and grant indexes), and on Redis a login that survives a
 * restart and is shared by a second engine (its refresh token works there).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';
import { systemClock } from '../../src/engine/clock.js';
import { tokenIsLive } from '../../src/tokens/revocation.js';
import { storeAdapter } from '../../src/oidc/adapter.js';
import { MemoryStore } from '../../src/store/memory.js';
import { prefixedStore, tenantPrefix, type Store } from '../../src/store/store.js';
import { describeWithRedis, RedisServer } from '../support/redis.js';
import { openRedis } from '../support/redis-store.js';
import { CookieJar, discover, passwordTokens, startOidcDemo } from './support.js';

function adapterContract(name: string, open: () => Promise<Store>): void {
  describe(`adapter on ${name}`, () => {
    let raw: Store;
    let store: Store;
    beforeAll(async () => {
      raw = await open();
      store = prefixedStore(raw, tenantPrefix('demo'));
    });
    afterAll(() => raw?.close());

    it('stores with a TTL, finds, consumes once, destroys', async () => {
      const Codes = storeAdapter(store, 60_000);
      const codes = new Codes('AuthorizationCode');
      await codes.upsert('c1', { accountId: 'u-1', grantId: 'g1' }, 60);
      expect(await codes.find('c1')).toEqual({ accountId: 'u-1', grantId: 'g1' });
      expect(await new Codes('Session').find('c1')).toBeUndefined();
      await codes.consume('c1');
      expect(typeof (await codes.find('c1'))?.consumed).toBe('number');
      const ttl = await store.ttl('oidc:AuthorizationCode:c1');
      expect(ttl).toBeGreaterThan(50_000);
      await codes.destroy('c1');
      expect(await codes.find('c1')).toBeUndefined();
    });

    it('finds a session by its uid', async () => {
      const Sessions = storeAdapter(store, 60_000);
      await new Sessions('Session').upsert('s1', { uid: 'uid-1', accountId: 'u-1' }, 60);
      expect(await new Sessions('Session').findByUid('uid-1')).toMatchObject({ accountId: 'u-1' });
      expect(await new Sessions('Session').findByUid('uid-unknown')).toBeUndefined();
    });

    it('revokes every record of a grant', async () => {
      const Models = storeAdapter(store, 60_000);
      await new Models('RefreshToken').upsert('r1', { grantId: 'g2' }, 60);
      await new Models('AccessToken').upsert('a1', { grantId: 'g2' }, 60);
      await new Models('RefreshToken').upsert('r2', { grantId: 'other' }, 60);
      await new Models('Grant').revokeByGrantId('g2');
      expect(await new Models('RefreshToken').find('r1')).toBeUndefined();
      expect(await new Models('AccessToken').find('a1')).toBeUndefined();
      expect(await new Models('RefreshToken').find('r2')).toEqual({ grantId: 'other' });
    });

    it("marks a destroyed grant ended for every token check, for the tokens' longest life", async () => {
      const Models = storeAdapter(store, 60_000);
      const token = { jti: 'j1', exp: Math.floor(Date.now() / 1000) + 60, gid: 'g3' };
      expect(await tokenIsLive(store, token, Date.now())).toBe(true);
      await new Models('Grant').upsert('g3', { accountId: 'u-1' }, 60);
      await new Models('Grant').destroy('g3');
      expect(await tokenIsLive(store, token, Date.now())).toBe(false);
      expect(await tokenIsLive(store, { ...token, gid: 'g4' }, Date.now())).toBe(true);
      expect(await store.ttl('revoked-grant:g3')).toBeGreaterThan(50_000);
    });
  });
}

adapterContract('memory', async () => new MemoryStore(systemClock));

describeWithRedis('the front door on Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  adapterContract('redis', () => openRedis({ url: redis.url }));

  it('keeps a login across a restart and shares it with another engine', async () => {
    const cookieKeys = (fixture: { mainFile: string; writeMain(main: unknown): unknown }) => {
      const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
      main.oidc.cookie_keys = ['a-cookie-key-shared-by-every-engine-0123456789'];
      fixture.writeMain(main);
    };
    const first = await startOidcDemo({ store: await openRedis({ url: redis.url }), edit: cookieKeys });
    const web = await discover(first.issuer(), 'shop-web');
    const tokens = await passwordTokens(new CookieJar(), web, 'http://localhost:3000/callback', 'alice', 'alice-pass-1');
    const issuer = first.issuer();
    await first.server.close();

    // Another engine behind the same public URL (a load balancer's view), with the same keys:
    // the grant and the refresh token are found in Redis.
    const second = await startOidcDemo({
      store: await openRedis({ url: redis.url }),
      edit: (f) => {
        cookieKeys(f);
        const keys = `${first.fixture.dir}/var/keys`;
        const main = JSON.parse(readFileSync(f.mainFile, 'utf8'));
        main.tokens.keys_dir = keys;
        main.oidc.public_url = new URL(issuer).origin;
        f.writeMain(main);
      },
    });
    try {
      // The second engine listens elsewhere but serves the same issuer (public_url): a load balancer's view.
      const served = (await (await fetch(`${second.base}/oidc/demo/.well-known/openid-configuration`)).json()) as client.ServerMetadata;
      expect(served.issuer).toBe(issuer);
      const viaSecond = new client.Configuration(
        { ...served, token_endpoint: `${second.base}/oidc/demo/token` },
        'shop-web',
        undefined,
        client.None(),
      );
      client.allowInsecureRequests(viaSecond);
      const refreshed = await client.refreshTokenGrant(viaSecond, tokens.refresh_token as string);
      expect(refreshed.access_token).toBeDefined();
      expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    } finally {
      await second.close();
      first.fixture.cleanup();
    }
  });
});
