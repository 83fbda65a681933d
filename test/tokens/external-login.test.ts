/**
 * external-login of the demo against a real upstream OpenID provider: examples/upstream-idp.mjs
 * started as a child process on a free port (listed in outbound.allow of the fixture), its ID
 * tokens got through its own authorization code flow (`id-token`). One good token answers a
 * user token; each bad one is 403 TOKEN_INVALID; an upstream that is down or silent is 500
 * COMMUNICATION_ERROR within the fetch bound.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { SignJWT } from 'jose';
import { ConfigFixture } from '../support/fixture.js';
import { ManualClock } from '../support/clock.js';
import { freePort } from '../support/net.js';
import { startUpstreamIdp, upstreamIdToken } from '../support/upstream-idp.js';
import { startServer, type RunningServer } from '../support/server.js';
import { startSilentServer } from '../support/tcp-proxy.js';

const TIMEOUT_MS = 700;

let upstream: ChildProcess;
let upstreamPort: number;
let issuer: string;
let silent: { port: number; close(): Promise<void> };
let server: RunningServer;
let fixture: ConfigFixture;
const clock = new ManualClock(Date.now());
const partnerIssuer = 'http://127.0.0.1:9/partner';

const idToken = (client?: string): Promise<string> => upstreamIdToken(upstreamPort, client);

/** A token signed by a key of our own (not in the upstream's JWKS). */
async function forged(claims: Record<string, unknown>, kid = 'not-upstream'): Promise<string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Math.floor(clock.now() / 1000);
  return new SignJWT({ sub: 'carol', aud: 'authpipe-demo', iss: issuer, iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid })
    .sign(privateKey);
}

const login = (token: string, tenant = 'demo') => server.call('external-login', { id_token: token }, { tenant });

function expectRefused(answer: { status: number; body: any }) {
  expect(answer.status).toBe(403);
  expect(answer.body.errorTranslationKeys[0]).toBe('TOKEN_INVALID');
}

beforeAll(async () => {
  upstreamPort = await freePort();
  issuer = `http://127.0.0.1:${upstreamPort}`;
  upstream = await startUpstreamIdp(upstreamPort);
  silent = await startSilentServer();
  fixture = ConfigFixture.fromDemo();
  const main = fixture.readJson('config/authpipe.json') as Record<string, any>;
  const tenants = main.modules[0].config.tenant as { id: string; allowedOperation: string[] }[];
  (tenants.find((t) => t.id === 'acme') as { allowedOperation: string[] }).allowedOperation.push('external-login');
  main.external_issuers = {
    upstream: { issuer, audiences: ['authpipe-demo'], tenants: ['demo'], timeout_ms: TIMEOUT_MS },
    // Another tenant's issuer: the valve names it, but demo's calls must refuse its tokens.
    partner: { issuer: partnerIssuer, jwks_uri: `${issuer}/jwks`, audiences: ['authpipe-demo'], tenants: ['acme'] },
    // An issuer whose JWKS never answers.
    silent: {
      issuer: 'http://127.0.0.1:9/silent',
      jwks_uri: `http://127.0.0.1:${silent.port}/jwks`,
      audiences: ['authpipe-demo'],
      tenants: ['demo'],
      timeout_ms: TIMEOUT_MS,
    },
  };
  // Beside the demo's own list (its shoppers' upstream at 127.0.0.1:4000 must stay allowed).
  main.outbound.allow = [...new Set([...main.outbound.allow, `127.0.0.1:${upstreamPort}`, `127.0.0.1:${silent.port}`])];
  fixture.writeMain(main);
  const pipe = fixture.readJson('pipes/external-login.json') as { valves: { name: string; config: Record<string, unknown> }[] };
  (pipe.valves[1] as { config: Record<string, unknown> }).config.issuers = ['upstream', 'partner', 'silent'];
  fixture.writePipe('external-login', pipe);
  const port = await freePort();
  server = await startServer({
    configFile: fixture.mainFile,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REDIS_URL: undefined },
    clock,
  });
}, 30000);

afterAll(async () => {
  upstream.kill();
  await server?.close();
  await silent?.close();
  fixture?.cleanup();
});

describe('external-login', () => {
  it('answers a user token for a valid upstream ID token, for upstream:<sub>', async () => {
    const answer = await login(await idToken());
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    const claims = JSON.parse(Buffer.from(answer.body.access_token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    expect(claims.sub).toBe('upstream:carol');
    expect(claims.tenant).toBe('demo');
  });

  it('refuses a token replayed after use', async () => {
    const token = await idToken();
    expect((await login(token)).status).toBe(200);
    expectRefused(await login(token));
  });

  it('refuses a wrong audience (an ID token for another client of the upstream)', async () => {
    expectRefused(await login(await idToken('mobile-backend')));
  });

  it('refuses a wrong issuer', async () => {
    expectRefused(await login(await forged({ iss: 'http://127.0.0.1:9/elsewhere' })));
  });

  it('refuses a token of an issuer configured for another tenant only', async () => {
    expectRefused(await login(await forged({ iss: partnerIssuer })));
  });

  it('refuses a bad signature', async () => {
    const [header, payload] = (await idToken()).split('.') as [string, string];
    const [, , otherSignature] = (await idToken()).split('.') as [string, string, string];
    expectRefused(await login(`${header}.${payload}.${otherSignature}`));
  });

  it('refuses alg none', async () => {
    const [, payload] = (await idToken()).split('.') as [string, string];
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expectRefused(await login(`${none}.${payload}.`));
    expectRefused(await login(`${none}.${payload}.AAAA`));
  });

  it('refuses a token signed with a key that is not in the JWKS', async () => {
    expectRefused(await login(await forged({})));
  });

  it('refuses an expired token', async () => {
    const token = await idToken();
    const start = clock.now();
    clock.advance(2 * 3600 * 1000);
    try {
      expectRefused(await login(token));
    } finally {
      clock.set(start);
    }
  });

  it('is 500 COMMUNICATION_ERROR within the bound when the JWKS does not answer', async () => {
    const token = await forged({ iss: 'http://127.0.0.1:9/silent' });
    const started = Date.now();
    const answer = await login(token);
    expect(answer.status).toBe(500);
    expect(answer.body.errorTranslationKeys).toEqual(['COMMUNICATION_ERROR']);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1500);
  });

  it('is 500 COMMUNICATION_ERROR when the upstream is down (its cached keys have expired)', async () => {
    const token = await idToken();
    upstream.kill();
    await once(upstream, 'exit');
    clock.advance(11 * 60 * 1000); // past the JWKS lifetime (600 s), within the token's hour
    const started = Date.now();
    const answer = await login(token);
    expect(answer.status).toBe(500);
    expect(answer.body.errorTranslationKeys).toEqual(['COMMUNICATION_ERROR']);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1500);
  });
});
