/**
 * Client authentication at the token endpoint, as basic-auth at the PUT door: every refusal is
 * invalid_client (unknown, public, disabled client, wrong secret; client_secret_basic and
 * client_secret_post), a client is locked per address after 5 failures while another address
 * keeps working, and one address's failures are limited across clients.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOidcDemo, trustLocalProxy, type OidcDemo } from './support.js';

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo({
    edit(fixture) {
      trustLocalProxy(fixture);
      const file = join(fixture.dir, 'config', 'directory.json');
      const directory = JSON.parse(readFileSync(file, 'utf8'));
      const pos = directory.tenants.demo.clients.find((c: { client_id: string }) => c.client_id === 'pos-server-1');
      directory.tenants.demo.clients.push({ ...pos, client_id: 'retired-server', status: 'disabled' });
      fixture.write('config/directory.json', directory);
    },
  });
});
afterAll(() => demo?.close());

function tokenRequest(issuer: string, id: string, secret: string, method: 'basic' | 'post', from: string) {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from };
  if (method === 'basic')
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  else {
    form.set('client_id', id);
    form.set('client_secret', secret);
  }
  return fetch(`${issuer}/token`, { method: 'POST', headers, body: form.toString() });
}

const CASES = [
  ['wrong secret', 'pos-server-1', 'not-the-secret'],
  ['unknown client', 'nobody-server', 'pos-server-1-secret'],
  ['public client', 'shop-web', 'anything'],
  ['disabled client', 'retired-server', 'pos-server-1-secret'],
] as const;

describe('client authentication at the token endpoint', () => {
  it.each(CASES.flatMap(([name, id, secret]) => (['basic', 'post'] as const).map((m) => [name, m, id, secret] as const)))(
    '%s with client_secret_%s: 401 invalid_client',
    async (_name, method, id, secret) => {
      const res = await tokenRequest(demo.issuer(), id, secret, method, '10.0.0.1');
      expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([401, 'invalid_client']);
    },
  );

  it('5 wrong secrets lock the client from that address only; the right secret works from another', async () => {
    for (let i = 0; i < 5; i++)
      expect((await tokenRequest(demo.issuer(), 'pos-server-1', `guess-${i}`, 'basic', '10.0.0.2')).status).toBe(401);
    expect((await tokenRequest(demo.issuer(), 'pos-server-1', 'pos-server-1-secret', 'basic', '10.0.0.2')).status).toBe(401);
    expect((await tokenRequest(demo.issuer(), 'pos-server-1', 'pos-server-1-secret', 'post', '10.0.0.3')).status).toBe(200);
  });

  it('an address with 100 failures is held up (429, Retry-After) before any hashing; others go on', async () => {
    const from = '10.0.0.4';
    // Bursts of 20: the listener caps one address's connections below 100.
    for (let b = 0; b < 5; b++) {
      const burst = await Promise.all(
        Array.from({ length: 20 }, (_, i) => tokenRequest(demo.issuer(), `nobody-${b}-${i}`, 'x', i % 2 ? 'basic' : 'post', from)),
      );
      expect(burst.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 401));
    }
    const held = await tokenRequest(demo.issuer(), 'pos-server-1', 'pos-server-1-secret', 'basic', from);
    expect(held.status).toBe(429);
    expect(Number(held.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await held.json()) as { error: string }).error).toBe('temporarily_unavailable');
    expect((await tokenRequest(demo.issuer(), 'pos-server-1', 'pos-server-1-secret', 'basic', '10.0.0.5')).status).toBe(200);
  });
});
