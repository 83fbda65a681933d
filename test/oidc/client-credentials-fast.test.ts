/**
 * The client credentials grant's warm path (oidc/client-credentials-fast.ts): once a sysapp's
 * secret has been verified, its plain grants are answered without the provider, with the
 * provider's answer; every other request still gets the provider's answer (refusals with
 * their codes, locks, other parameters), with the body the fast path had read.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { discover, startOidcDemo, trustLocalProxy, type OidcDemo } from './support.js';

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo({ edit: trustLocalProxy });
});
afterAll(() => demo?.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

function grant(body: string, options: { secret?: string; from?: string; headers?: Record<string, string> } = {}) {
  return fetch(`${demo.issuer()}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic('pos-server-1', options.secret ?? 'pos-server-1-secret'),
      'x-forwarded-for': options.from ?? '10.1.0.1',
      ...options.headers,
    },
    body,
  });
}

async function claimsOf(res: Response) {
  const body = (await res.json()) as { access_token: string; expires_in: number; token_type: string; scope: string };
  const { payload } = await jwtVerify(body.access_token, createRemoteJWKSet(new URL(`${demo.issuer()}/jwks`)), {
    issuer: demo.issuer(),
    audience: 'https://api.demo.example',
    typ: 'at+jwt',
  });
  return { body, payload };
}

describe('client credentials: the warm path', () => {
  it('answers what the provider answers: the same members, claims, headers and lifetime', async () => {
    const cold = await grant('grant_type=client_credentials');
    const warm = await grant('grant_type=client_credentials');
    expect([cold.status, warm.status]).toEqual([200, 200]);
    for (const name of ['cache-control', 'pragma', 'content-type', 'access-control-allow-origin', 'x-content-type-options'])
      expect([name, warm.headers.get(name)]).toEqual([name, cold.headers.get(name)]);
    const [a, b] = [await claimsOf(cold), await claimsOf(warm)];
    expect(Object.keys(b.body)).toEqual(Object.keys(a.body));
    expect({ ...b.body, access_token: '' }).toEqual({ ...a.body, access_token: '' });
    const { jti: coldJti, iat: _a, exp: _b, ...coldClaims } = a.payload;
    const { jti: warmJti, iat: _c, exp: _d, ...warmClaims } = b.payload;
    expect(Object.keys(b.payload)).toEqual(Object.keys(a.payload));
    expect(warmClaims).toEqual(coldClaims);
    expect(coldClaims).toMatchObject({ sub: 'pos-server-1', client_id: 'pos-server-1', kind: 'client', tenant: 'demo' });
    // The provider's token ids are nanoids; the warm path's are UUIDs: this one did not go through the provider.
    expect(String(coldJti)).not.toMatch(UUID);
    expect(String(warmJti)).toMatch(UUID);
    expect((b.payload.exp as number) - (b.payload.iat as number)).toBe(b.body.expires_in);
  });

  it('gives a narrower scope asked for, each scope once, in the order asked', async () => {
    const res = await grant('grant_type=client_credentials&scope=data%3Acustomer%3Aread+data%3Acustomer%3Aread');
    const { body, payload } = await claimsOf(res);
    expect([body.scope, payload.scope, String(payload.jti)]).toEqual([
      'data:customer:read',
      'data:customer:read',
      expect.stringMatching(UUID),
    ]);
  });

  it('its tokens introspect as active and can be revoked, like the provider’s', async () => {
    const config = await discover(demo.issuer(), 'pos-server-1', 'pos-server-1-secret');
    const { body } = await claimsOf(await grant('grant_type=client_credentials'));
    expect((await client.tokenIntrospection(config, body.access_token)).active).toBe(true);
    await client.tokenRevocation(config, body.access_token);
    expect((await client.tokenIntrospection(config, body.access_token)).active).toBe(false);
  });

  it('leaves every other request to the provider, which reads the body the warm path read', async () => {
    const codeOf = async (res: Response) => [res.status, ((await res.json()) as { error?: string }).error];
    expect(await codeOf(await grant('grant_type=client_credentials&scope=nope'))).toEqual([400, 'invalid_scope']);
    expect(await codeOf(await grant('grant_type=client_credentials&grant_type=client_credentials'))).toEqual([400, 'invalid_request']);
    expect(await codeOf(await grant('grant_type=authorization_code&code=x'))).toEqual([400, 'unauthorized_client']);
    expect(await codeOf(await grant('grant_type=client_credentials', { secret: 'not-the-secret' }))).toEqual([401, 'invalid_client']);
    const withResource = await grant('grant_type=client_credentials&resource=https%3A%2F%2Fapi.demo.example');
    const { payload } = await claimsOf(withResource);
    // The provider's answer, not the warm path's.
    expect(String(payload.jti)).not.toMatch(UUID);
  });

  it('a client locked from an address is refused there even with the right secret and a warm cache', async () => {
    expect((await grant('grant_type=client_credentials', { from: '10.1.0.9' })).status).toBe(200);
    for (let i = 0; i < 5; i++)
      expect((await grant('grant_type=client_credentials', { secret: `guess-${i}`, from: '10.1.0.9' })).status).toBe(401);
    expect((await grant('grant_type=client_credentials', { from: '10.1.0.9' })).status).toBe(401);
    expect((await grant('grant_type=client_credentials', { from: '10.1.0.10' })).status).toBe(200);
  });
});
