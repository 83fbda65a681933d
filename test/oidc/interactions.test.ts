/**
 * Starting a sign-in (/auth) is bounded (issue 24, item 5): a per-address limit, and a cap on
 * the pending interactions a tenant's store holds, refused with a coded page, never a 500;
 * a legitimate PKCE login from another address still succeeds after the flood.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';
import { authorizationRequest, CookieJar, discover, passwordTokens, startOidcDemo, type OidcDemo } from './support.js';
import { sample } from '../support/metrics-text.js';
import { pendingInteractions } from '../../src/oidc/pending.js';
import { prefixedStore, tenantPrefix } from '../../src/store/store.js';

const SHOP_WEB = 'http://localhost:3000/callback';
const PER_ADDRESS = 20;
const MAX_PENDING = 40;

let demo: OidcDemo;
let web: client.Configuration;
beforeAll(async () => {
  demo = await startOidcDemo({
    edit: (fixture) => {
      const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
      main.oidc.interactions = { max_pending: MAX_PENDING, per_address: PER_ADDRESS, window_seconds: 60 };
      fixture.writeMain(main);
    },
  });
  web = await discover(demo.issuer(), 'shop-web');
});
afterAll(() => demo?.close());

/** GET of `url` from the loopback address `from` (127.0.0.0/8): the status, Retry-After and body. */
function getFrom(from: string, url: string): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress: from, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** `count` sign-ins started from `from`, each with its own state. */
async function flood(from: string, count: number) {
  const answers = [];
  for (let i = 0; i < count; i++) answers.push(await getFrom(from, (await authorizationRequest(web, SHOP_WEB)).url));
  return answers;
}

const pending = () => pendingInteractions(prefixedStore(demo.server.app.store, tenantPrefix('demo')), 600).count();
const metric = async (reason: string) =>
  sample(
    await (await fetch(`${demo.server.managementUrl}/metrics`)).text(),
    `authpipe_oidc_interactions_refused_total{tenant="demo",reason="${reason}"}`,
  ) ?? 0;

describe('/auth under a flood', () => {
  it('a flood with distinct state from one address hits the per-address limit, with a coded page', async () => {
    const answers = await flood('127.0.0.2', PER_ADDRESS + 10);
    expect(answers.slice(0, PER_ADDRESS).map((a) => a.status)).toEqual(Array(PER_ADDRESS).fill(303));
    for (const refused of answers.slice(PER_ADDRESS)) {
      expect(refused.status).toBe(429);
      expect(refused.body).toContain('data-code="RATE_LIMITED"');
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    }
    // Only the admitted ones are pending: the refused stored nothing.
    expect(await pending()).toBe(PER_ADDRESS);
    expect(await metric('rate_limited')).toBe(10);
  });

  it('a legitimate PKCE login from another address still succeeds after the flood', async () => {
    const tokens = await passwordTokens(new CookieJar(), web, SHOP_WEB, 'alice', 'alice-pass-1');
    expect(tokens.claims()?.sub).toBeDefined();
    // A finished sign-in is no longer pending.
    expect(await pending()).toBe(PER_ADDRESS);
  });

  it('past max_pending the store refuses new sign-ins with a coded 503 page, never a 500', async () => {
    // 20 more from two addresses fill the cap; every further start, from anywhere, is refused.
    expect((await flood('127.0.0.3', MAX_PENDING - PER_ADDRESS)).every((a) => a.status === 303)).toBe(true);
    expect(await pending()).toBe(MAX_PENDING);
    for (const from of ['127.0.0.4', '127.0.0.5', '127.0.0.1']) {
      const [refused] = await flood(from, 1);
      expect(refused?.status).toBe(503);
      expect(refused?.body).toContain('data-code="INTERACTIONS_FULL"');
      expect(refused?.body).not.toMatch(/at .*\.js/);
      expect(refused?.retryAfter).toBe('60');
    }
    expect(await pending()).toBe(MAX_PENDING);
    expect(await metric('full')).toBe(3);
  });
});
