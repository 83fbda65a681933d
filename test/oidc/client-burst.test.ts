/**
 * A sysapp's first burst at a cold verified-secret cache: identical secrets in flight share one
 * hash check, so the process's small hash budget (a slot per core, a short queue) does not
 * refuse the real client's own parallel requests as invalid_client. Its own file, so that the
 * process-wide cache starts cold.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startOidcDemo, type OidcDemo } from './support.js';

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo();
});
afterAll(() => demo?.close());

it('32 parallel client credentials grants with a cold cache all succeed', async () => {
  const basic = Buffer.from('pos-server-1:pos-server-1-secret').toString('base64');
  const grant = () =>
    fetch(`${demo.issuer()}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
  const answers = await Promise.all(Array.from({ length: 32 }, grant));
  expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 32 }, () => 200));
  const wrong = await fetch(`${demo.issuer()}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('pos-server-1:not-the-secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  expect(wrong.status).toBe(401);
  expect(((await wrong.json()) as { error: string }).error).toBe('invalid_client');
});
