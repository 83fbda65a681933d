/**
 * private_key_jwt client authentication (RFC 7523 §2.2, OpenID Connect Core §9): clients that
 * hold no shared secret sign a client assertion with their own key, listed in the directory
 * (`jwks`) or published at a `jwks_uri` the outbound allowlist permits. Driven with
 * openid-client's PrivateKeyJwt and oauth4webapi's, over real HTTP; every bad assertion is a
 * 401 invalid_client, never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';
import {
  allowOutbound,
  authorizationRequest,
  CookieJar,
  editClients,
  loadIssuesOf,
  passwordLogin,
  startOidcDemo,
  type OidcDemo,
} from './support.js';
import { ConfigFixture } from '../support/fixture.js';
import { freePort } from '../support/net.js';

const BFF = 'http://localhost:3005/callback';

let demo: OidcDemo;
let inlineKey: jose.GenerateKeyPairResult;
let uriKey: jose.GenerateKeyPairResult;
let jwksServer: Server;
let jwksFetches = 0;
let deadPort: number;

async function publicJwk(pair: jose.GenerateKeyPairResult, kid: string, alg: string) {
  return { ...(await jose.exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
}

beforeAll(async () => {
  inlineKey = await jose.generateKeyPair('ES256', { extractable: true });
  uriKey = await jose.generateKeyPair('RS256', { extractable: true });
  const uriJwks = { keys: [await publicJwk(uriKey, 'uri-1', 'RS256')] };
  jwksServer = createServer((_req, res) => {
    jwksFetches += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(uriJwks));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksPort = (jwksServer.address() as AddressInfo).port;
  deadPort = await freePort();
  const inline = { keys: [await publicJwk(inlineKey, 'inline-1', 'ES256')] };
  demo = await startOidcDemo({
    edit: (fixture) => {
      editClients(fixture, {
        'pos-keyed': { type: 'sysapp', jwks: inline, access_group: 'Admin' },
        'pos-uri': { type: 'sysapp', jwks_uri: `http://127.0.0.1:${jwksPort}/jwks` },
        'pos-dead': { type: 'sysapp', jwks_uri: `http://127.0.0.1:${deadPort}/jwks` },
        'shop-bff': { type: 'userapp', pool: 'shoppers', redirect_uris: [BFF], jwks: inline },
      });
      allowOutbound(fixture, `127.0.0.1:${jwksPort}`, `127.0.0.1:${deadPort}`);
    },
  });
});
afterAll(async () => {
  await demo?.close();
  await new Promise((resolve) => jwksServer?.close(resolve));
});

const keyed = (clientId: string, key: jose.CryptoKey, kid: string) =>
  client.discovery(new URL(demo.issuer()), clientId, undefined, client.PrivateKeyJwt({ key, kid }), {
    execute: [client.allowInsecureRequests],
  });

/** A client assertion as RFC 7523 §3 shapes it, with any claim overridden. */
function assertion(clientId: string, key: jose.CryptoKey, claims: jose.JWTPayload = {}, kid = 'inline-1', alg = 'ES256') {
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({
    iss: clientId,
    sub: clientId,
    aud: `${demo.issuer()}/token`,
    jti: randomUUID(),
    iat: now,
    exp: now + 60,
    ...claims,
  })
    .setProtectedHeader({ alg, kid })
    .sign(key);
}

function tokenRequest(clientId: string, clientAssertion: string) {
  return fetch(`${demo.issuer()}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion,
    }).toString(),
  });
}

describe('private_key_jwt', () => {
  it('is advertised in discovery', async () => {
    const meta = (await (await fetch(`${demo.issuer()}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
    expect(meta.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(meta.token_endpoint_auth_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', 'ES256']));
    expect(meta.token_endpoint_auth_methods_supported).not.toContain('client_secret_jwt');
  });

  it('openid-client: client credentials with a key listed in the directory', async () => {
    const config = await keyed('pos-keyed', inlineKey.privateKey, 'inline-1');
    const tokens = await client.clientCredentialsGrant(config);
    const claims = jose.decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ client_id: 'pos-keyed', kind: 'client', access_group: 'Admin' });
  });

  it('oauth4webapi: client credentials with a key published at a jwks_uri', async () => {
    const issuer = new URL(demo.issuer());
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
    const before = jwksFetches;
    const res = await oauth.clientCredentialsGrantRequest(
      as,
      { client_id: 'pos-uri' },
      oauth.PrivateKeyJwt({ key: uriKey.privateKey, kid: 'uri-1' }),
      new URLSearchParams(),
      { [oauth.allowInsecureRequests]: true },
    );
    const tokens = await oauth.processClientCredentialsResponse(as, { client_id: 'pos-uri' }, res);
    expect(jose.decodeJwt(tokens.access_token)).toMatchObject({ client_id: 'pos-uri' });
    expect(jwksFetches).toBeGreaterThan(before);
  });

  it('openid-client: a confidential app trades its code with private_key_jwt', async () => {
    const config = await keyed('shop-bff', inlineKey.privateKey, 'inline-1');
    const request = await authorizationRequest(config, BFF);
    const callback = await passwordLogin(new CookieJar(), request.url, BFF, 'alice', 'alice-pass-1');
    const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    expect(tokens.claims()?.sub).toBeDefined();
  });

  it('refuses a replayed assertion (the same jti twice)', async () => {
    const once = await assertion('pos-keyed', inlineKey.privateKey);
    expect((await tokenRequest('pos-keyed', once)).status).toBe(200);
    const again = await tokenRequest('pos-keyed', once);
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: 'invalid_client' });
  });

  it.each([
    ['a wrong audience', { aud: 'https://elsewhere.example/token' }],
    ['an expired assertion', { iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) - 300 }],
    ['no jti', { jti: undefined }],
  ])('refuses %s with invalid_client', async (_name, claims) => {
    const res = await tokenRequest('pos-keyed', await assertion('pos-keyed', inlineKey.privateKey, claims));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses an assertion naming another client than client_id (invalid_request, RFC 7521 §4.2)', async () => {
    const res = await tokenRequest('pos-keyed', await assertion('pos-keyed', inlineKey.privateKey, { iss: 'pos-uri', sub: 'pos-uri' }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('refuses an assertion signed by a key the client does not list, and a secret in its place', async () => {
    const stranger = await jose.generateKeyPair('ES256');
    const res = await tokenRequest('pos-keyed', await assertion('pos-keyed', stranger.privateKey));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
    const basic = await fetch(`${demo.issuer()}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('pos-keyed:guess').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(basic.status).toBe(401);
    expect(await basic.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('answers invalid_client, not a 500, when the jwks_uri cannot be reached', async () => {
    const stranger = await jose.generateKeyPair('RS256');
    const res = await tokenRequest('pos-dead', await assertion('pos-dead', stranger.privateKey, {}, 'x', 'RS256'));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });
});

describe('client keys at load', () => {
  /** Where the client added below lands in the issues' pointers: after the demo's own clients. */
  const added = '/tenants/demo/clients/<added>';
  async function issuesWith(members: Record<string, unknown>) {
    const fixture = ConfigFixture.fromDemo();
    try {
      const index = JSON.parse(readFileSync(join(fixture.dir, 'config', 'directory.json'), 'utf8')).tenants.demo.clients.length;
      editClients(fixture, { 'pos-new': { type: 'sysapp', ...members } });
      return (await loadIssuesOf(fixture)).map((issue) => ({
        ...issue,
        pointer: issue.pointer.replace(`/tenants/demo/clients/${index}/`, `${added}/`),
      }));
    } finally {
      fixture.cleanup();
    }
  }

  it('refuses a jwks_uri not on outbound.allow (CONFIG_OUTBOUND)', async () => {
    expect(await issuesWith({ jwks_uri: 'https://keys.example.com/jwks' })).toEqual([
      expect.objectContaining({ code: 'CONFIG_OUTBOUND', file: 'config/directory.json', pointer: `${added}/jwks_uri` }),
    ]);
  });

  it('refuses a private key, a secret beside keys, and both jwks and jwks_uri (CONFIG_INVALID)', async () => {
    const pair = await jose.generateKeyPair('ES256', { extractable: true });
    const privateJwk = await jose.exportJWK(pair.privateKey);
    const publicJwk = await jose.exportJWK(pair.publicKey);
    expect(await issuesWith({ jwks: { keys: [privateJwk] } })).toEqual([
      expect.objectContaining({ code: 'CONFIG_INVALID', pointer: `${added}/jwks/keys/0/d` }),
    ]);
    const both = await issuesWith({ jwks: { keys: [publicJwk] }, jwks_uri: 'http://127.0.0.1:4000/jwks' });
    expect(both).toEqual([expect.objectContaining({ code: 'CONFIG_INVALID', pointer: `${added}/jwks_uri` })]);
    const secret = (
      await issuesWith({ jwks: { keys: [publicJwk] }, secret_hash: '$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$' + 'A'.repeat(43) })
    ).map((i) => i.code);
    expect(secret).toContain('CONFIG_INVALID');
  });
});
