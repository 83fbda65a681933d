/**
 * One way to run a pipe: the PUT API, the hosted login and the admin's dry run run the same
 * pipe through one `execute`, so each call is told the same way (a CallEvent with its door,
 * metrics, audit events) and the settle hooks run at every door: a rate limit that counts
 * failures only counts failures, wherever they came in. Token grants are told as the token door.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CallEvent } from '../../src/engine/execute.js';
import { adminToken, api, basic, editJson, makeOperator } from '../admin/support.js';
import { sample } from '../support/metrics-text.js';
import { DEMO_SECRETS } from '../support/fixture.js';
import {
  authorizationRequest,
  CookieJar,
  discover,
  expectCallback,
  expectPage,
  follow,
  startOidcDemo,
  submit,
  type OidcDemo,
} from '../oidc/support.js';

const REDIRECT = 'http://localhost:3000/callback';
const LIMIT = 3;
let demo: OidcDemo;
const events: CallEvent[] = [];
const audit: Record<string, unknown>[] = [];

beforeAll(async () => {
  demo = await startOidcDemo({
    edit: (fixture) => {
      makeOperator(fixture);
      // login-password also as a PUT operation of demo, and at most LIMIT failures per address.
      editJson(fixture, 'config/authpipe.json', (m) => m.modules[0].config.tenant[0].allowedOperation.push('login-password'));
      editJson(fixture, 'pipes/login-password.json', (p) => {
        p.valves[0].config.limit = LIMIT;
        p.valves[1].config.from = ['body'];
      });
    },
    app: {
      observers: { callEnd: (event) => events.push(event) },
      auditStream: { write: (line: string) => void audit.push(JSON.parse(line)) },
    },
  });
});
afterAll(() => demo?.close());

/** One hosted login on shop-web; the callback URL, or the page that refused it. */
async function hostedLogin(username: string, password: string) {
  const jar = new CookieJar();
  const request = await authorizationRequest(await discover(demo.issuer(), 'shop-web'), REDIRECT);
  const page = expectPage(await follow(jar, request.url, REDIRECT));
  return submit(jar, page, { username, password }, REDIRECT);
}

const putLogin = (username: string, password: string) => demo.server.call('login-password', { username, password });

async function dryRun(username: string, password: string) {
  const token = await adminToken(demo.server);
  return api(demo.server, 'POST', '/admin/dry-run', { token, body: { operation: 'login-password', body: { username, password } } });
}

const ofOperation = (door: string) => events.filter((e) => e.door === door && e.operation === 'login-password');

describe('every door runs the pipe the same way', () => {
  it('a success at each door is one CallEvent with its door, an auth.success audit event and a metric', async () => {
    expect((await putLogin('bob', 'bob-pass-1')).status).toBe(200);
    expect(expectCallback(await hostedLogin('bob', 'bob-pass-1'))).toContain('code=');
    expect((await dryRun('bob', 'bob-pass-1')).body.status).toBe(200);

    for (const door of ['put', 'hosted', 'dry-run']) {
      expect(ofOperation(door).map((e) => [e.status, e.authenticated])).toEqual([[200, 'u-1002']]);
      expect(audit.filter((a) => a.event === 'auth.success' && a.door === door && a.operation === 'login-password')).toHaveLength(1);
    }
    const token = await adminToken(demo.server);
    const metrics = await (await fetch(`${demo.server.managementUrl}/metrics`, { headers: { host: 'localhost' } })).text();
    for (const door of ['put', 'hosted', 'dry-run'])
      expect(
        sample(metrics, `authpipe_calls_total{tenant="demo",operation="login-password",outcome="success",code="",door="${door}"}`),
      ).toBe(1);
    const overview = await api(demo.server, 'GET', '/admin/overview', { token });
    const doors = (overview.body.calls as { door: string; operation: string }[]).filter((c) => c.operation === 'login-password');
    expect(doors.map((c) => c.door).sort()).toEqual(['dry-run', 'hosted', 'put']);
  });

  it(`with count "failures" and a limit of ${LIMIT}, ten successful hosted logins in a row all succeed`, async () => {
    for (let i = 0; i < 10; i++) expect(expectCallback(await hostedLogin('alice', 'alice-pass-1'))).toContain('code=');
  });

  it('failures at every door count on the one per-address limit (the settle hooks ran at each)', async () => {
    expect((await putLogin('nobody', 'wrong-password')).status).toBe(403);
    expect(expectPage(await hostedLogin('nobody', 'wrong-password')).status).toBe(403);
    expect((await dryRun('nobody', 'wrong-password')).body.status).toBe(403);
    // The fourth failure-counting call from this address is over the limit, even with the right password.
    const over = await putLogin('bob', 'bob-pass-1');
    expect([over.status, over.body.errorTranslationKeys]).toEqual([403, ['RATE_LIMITED']]);
    for (const door of ['put', 'hosted', 'dry-run'])
      expect(audit.filter((a) => a.event === 'auth.failure' && a.door === door && a.code === 'INVALID_CREDENTIALS')).toHaveLength(1);
  });

  it('a token grant is told as the token door, with the client as its subject', async () => {
    const res = await fetch(`${demo.issuer()}/token`, {
      method: 'POST',
      headers: {
        authorization: basic('pos-server-1', DEMO_SECRETS['pos-server-1'] as string),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
    const token = events.filter((e) => e.door === 'token');
    expect(token.map((e) => [e.operation, e.status, e.authenticated])).toContainEqual(['client_credentials', 200, 'pos-server-1']);
  });
});
