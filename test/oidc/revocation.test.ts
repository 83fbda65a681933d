/**
 * Revocation reaches every check, on every engine sharing the store (issue 24, item 6): a
 * token whose login ended (end_session, refresh-token reuse) or that was revoked (RFC 7009)
 * is refused by PUT introspect (token-verify), by the admin API and by userinfo, on the engine
 * that ended it and at once on a second engine on the same Redis. Revoking one access token
 * leaves its login alone: the refresh token still works and the new access token is live.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { ADMIN_SECRET, adminCall, adminToken } from '../access-groups/support.js';
import { describeWithRedis, RedisServer } from '../support/redis.js';
import type { ConfigFixture } from '../support/fixture.js';
import { CookieJar, discover, expectCallback, expectPage, follow, passwordTokens, startOidcDemo, type OidcDemo } from './support.js';

const SHOP_WEB = 'http://localhost:3000/callback';

describeWithRedis('revocation on two engines sharing Redis', () => {
  let redis: RedisServer;
  let a: OidcDemo;
  let b: OidcDemo;
  let web: client.Configuration;

  const onRedis = (fixture: ConfigFixture, extra: (main: Record<string, any>) => void = () => {}) => {
    const main = fixture.readJson('config/authpipe.json') as Record<string, any>;
    main.store = { type: 'redis', url: redis.url, command_timeout_ms: 2000 };
    // A refresh token's immediate repeat is reuse here (conformance-refresh.test.ts covers the grace window).
    main.oidc.refresh_grace_seconds = 0;
    extra(main);
    fixture.writeMain(main);
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    a = await startOidcDemo({ edit: (f) => onRedis(f) });
    // Behind the same public URL with the same keys: a load balancer's second engine.
    b = await startOidcDemo({
      edit: (f) =>
        onRedis(f, (main) => {
          main.tokens.keys_dir = `${a.fixture.dir}/var/keys`;
          main.oidc.public_url = new URL(a.issuer()).origin;
        }),
    });
    web = await discover(a.issuer(), 'shop-web');
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.stop();
  });

  /** What each door says of `token` on `engine`: live (true) or refused (false), checked to be one or the other. */
  async function doors(engine: OidcDemo, token: string) {
    const introspect = await engine.server.call('introspect', {}, { authorization: `Bearer ${token}` });
    expect([200, 403]).toContain(introspect.status);
    if (introspect.status === 403) expect(introspect.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
    // Alice is no admin: a live token is 403 NOT_ADMIN, a refused one 401.
    const admin = await adminCall(engine.server, 'GET', '', { token });
    expect([401, 403]).toContain(admin.status);
    const userinfo = await fetch(`${engine.base}/oidc/demo/me`, { headers: { authorization: `Bearer ${token}` } });
    expect([200, 401]).toContain(userinfo.status);
    return { introspect: introspect.status === 200, admin: admin.status === 403, userinfo: userinfo.status === 200 };
  }
  const LIVE = { introspect: true, admin: true, userinfo: true };
  const REFUSED = { introspect: false, admin: false, userinfo: false };

  async function expectEverywhere(token: string, state: typeof LIVE) {
    expect(await doors(a, token)).toEqual(state);
    expect(await doors(b, token)).toEqual(state);
  }

  async function login(jar = new CookieJar()) {
    return passwordTokens(jar, web, SHOP_WEB, 'alice', 'alice-pass-1');
  }

  it('refuses a token after end_session', async () => {
    const jar = new CookieJar();
    const tokens = await login(jar);
    await expectEverywhere(tokens.access_token, LIVE);
    const endUrl = client.buildEndSessionUrl(web, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: 'http://localhost:3000/',
    });
    const confirm = expectPage(await follow(jar, endUrl.href, 'http://localhost:3000/'));
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)?.[1] as string;
    const action = /action="([^"]+)"/.exec(confirm.html)?.[1] as string;
    const done = await follow(jar, new URL(action, a.base).href, 'http://localhost:3000/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    });
    expect(expectCallback(done)).toBe('http://localhost:3000/');
    await expectEverywhere(tokens.access_token, REFUSED);
  });

  it('refuses every token of a grant after a refresh-token reuse', async () => {
    const tokens = await login();
    const rotated = await client.refreshTokenGrant(web, tokens.refresh_token as string);
    await expectEverywhere(rotated.access_token, LIVE);
    await expect(client.refreshTokenGrant(web, tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expectEverywhere(tokens.access_token, REFUSED);
    await expectEverywhere(rotated.access_token, REFUSED);
  });

  it('refuses a revoked access token (RFC 7009) and keeps its login', async () => {
    const tokens = await login();
    await client.tokenRevocation(web, tokens.access_token, { token_type_hint: 'access_token' });
    await expectEverywhere(tokens.access_token, REFUSED);
    expect((await client.tokenIntrospection(web, tokens.access_token)).active).toBe(false);
    const refreshed = await client.refreshTokenGrant(web, tokens.refresh_token as string);
    await expectEverywhere(refreshed.access_token, LIVE);
  });

  it('refuses a revoked system token at the admin API of both engines', async () => {
    const token = await adminToken(a.server);
    expect((await adminCall(b.server, 'GET', '', { token })).status).toBe(200);
    const revoked = await fetch(`${a.base}/oidc/demo/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`admin-console:${ADMIN_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(revoked.status).toBe(200);
    expect((await adminCall(a.server, 'GET', '', { token })).status).toBe(401);
    expect((await adminCall(b.server, 'GET', '', { token })).status).toBe(401);
    expect((await b.server.call('introspect', {}, { authorization: `Bearer ${token}` })).status).toBe(403);
  });
});
