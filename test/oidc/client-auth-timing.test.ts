/**
 * invalid_client in the same time for every case: wrong secret, unknown, public and disabled
 * client ids, with client_secret_basic and client_secret_post, alone and in bursts of 8
 * identical parallel requests, as the existing timing files measure it (cases interleaved,
 * medians within 10%). The floor is set well above a check's cost here, so wall time is the
 * padding's. Each round comes from an address of its own (trusted proxy), so the per-address
 * failure limit does not end the file early.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { failureFloorMs } from '../../src/credentials/check.js';
import { startOidcDemo, type OidcDemo } from './support.js';

jest.retryTimes(2, { logErrorsBeforeRetry: true });

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo({
    edit(fixture) {
      const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
      main.http_configuration[0].trusted_proxies = ['127.0.0.1'];
      main.password_checks = { failure_floor_ms: 250, queue: 32 };
      fixture.writeMain(main);
      const file = join(fixture.dir, 'config', 'directory.json');
      const directory = JSON.parse(readFileSync(file, 'utf8'));
      const pos = directory.tenants.demo.clients.find((c: { client_id: string }) => c.client_id === 'pos-server-1');
      directory.tenants.demo.clients.push({ ...pos, client_id: 'retired-server', status: 'disabled' });
      fixture.write('config/directory.json', directory);
    },
  });
});
afterAll(() => demo?.close());

function tokenRequest(id: string, secret: string, method: 'basic' | 'post', from: string) {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from };
  if (method === 'basic')
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  else {
    form.set('client_id', id);
    form.set('client_secret', secret);
  }
  return fetch(`${demo.issuer()}/token`, { method: 'POST', headers, body: form.toString() });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const spread = (values: number[]) => (Math.max(...values) - Math.min(...values)) / Math.min(...values);

const CASES = (['basic', 'post'] as const).flatMap((method) =>
  (
    [
      ['wrong secret', 'pos-server-1', 'not-the-secret'],
      ['unknown client', 'nobody-server', 'pos-server-1-secret'],
      ['public client', 'shop-web', 'anything'],
      ['disabled client', 'retired-server', 'pos-server-1-secret'],
    ] as const
  ).map(([name, id, secret]) => ({ name: `${name} (${method})`, id, secret, method })),
);

async function refusedIn(c: (typeof CASES)[number], from: string): Promise<number> {
  const started = performance.now();
  const res = await tokenRequest(c.id, c.secret, c.method, from);
  const ms = performance.now() - started;
  expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([401, 'invalid_client']);
  return ms;
}

describe('invalid_client in one time', () => {
  it.each([1, 8])(
    'in bursts of %i: every case has the same median wall time (10%)',
    async (size) => {
      const wall: Record<string, number[]> = {};
      for (let round = 0; round < 7; round++) {
        const cases = round % 2 ? [...CASES].reverse() : CASES;
        for (const [i, c] of cases.entries()) {
          const from = `10.${size}.${round}.${i + 1}`;
          const times = await Promise.all(Array.from({ length: size }, () => refusedIn(c, from)));
          (wall[c.name] ??= []).push(median(times));
        }
      }
      const medians = Object.fromEntries(Object.entries(wall).map(([name, xs]) => [name, median(xs)]));
      expect(Math.min(...Object.values(medians))).toBeGreaterThanOrEqual(failureFloorMs() - 2);
      // The figures ride along so that a failure shows them.
      expect({ within10: spread(Object.values(medians)) <= 0.1, medians }).toEqual({ within10: true, medians });
    },
    60_000,
  );
});
