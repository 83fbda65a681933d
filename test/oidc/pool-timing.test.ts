/**
 * A right password for a pool the account is not in takes as long to refuse as a wrong
 * password or an unknown name, on the shoppers, partners and staff pools, as the existing
 * timing files measure it: cases interleaved round by round, compared by medians (10%). The
 * floor is set well above what a check costs here, so wall time is the padding's, not the load's.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { failureFloorMs } from '../../src/credentials/check.js';
import {
  authorizationRequest,
  CookieJar,
  discover,
  expectPage,
  follow,
  submit,
  startOidcDemo,
  type LoginPage,
  type OidcDemo,
} from './support.js';

// A noisy moment can push one comparison past its margin; a leak fails every try.
jest.retryTimes(2, { logErrorsBeforeRetry: true });

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo({
    edit(fixture) {
      const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
      main.password_checks = { failure_floor_ms: 250 };
      fixture.writeMain(main);
      const pipe = JSON.parse(readFileSync(join(fixture.dir, 'pipes', 'login-password.json'), 'utf8'));
      // Many tries from one address, and no lock to change what a wrong password meets.
      pipe.valves[0].config.limit = 10_000;
      pipe.valves[1].config.lockout = { threshold: 1000 };
      fixture.writePipe('login-password', pipe);
    },
  });
});
afterAll(() => demo?.close());

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const spread = (values: number[]) => (Math.max(...values) - Math.min(...values)) / Math.min(...values);

const POOLS = [
  { app: 'shop-web', redirect: 'http://localhost:3000/callback', outsider: ['ops-admin', 'ops-admin-pass'], member: 'alice' },
  { app: 'partner-portal', redirect: 'http://localhost:3002/callback', outsider: ['ops-admin', 'ops-admin-pass'], member: 'bob' },
  { app: 'authpipe-console', redirect: 'http://127.0.0.1:9090/console/callback', outsider: ['alice', 'alice-pass-1'], member: 'ops-admin' },
] as const;

describe('a right password for another pool', () => {
  it.each(POOLS)(
    '$app: refused in the time of a wrong password and of an unknown name (medians within 10%)',
    async (pool) => {
      const jar = new CookieJar();
      const request = await authorizationRequest(await discover(demo.issuer(), pool.app), pool.redirect);
      let page: LoginPage = expectPage(await follow(jar, request.url, pool.redirect));
      const cases: Record<string, () => Record<string, string>> = {
        'right password, not in the pool': () => ({ username: pool.outsider[0], password: pool.outsider[1] }),
        'wrong password, in the pool': () => ({ username: pool.member, password: `wrong-${Math.random()}` }),
        'unknown name': () => ({ username: `nobody-${Math.random()}`, password: pool.outsider[1] }),
      };
      const wall: Record<string, number[]> = {};
      for (let round = 0; round < 7; round++) {
        const names = Object.keys(cases);
        if (round % 2) names.reverse();
        for (const name of names) {
          const started = performance.now();
          page = expectPage(await submit(jar, page, (cases[name] as () => Record<string, string>)(), pool.redirect));
          (wall[name] ??= []).push(performance.now() - started);
          expect([page.status, page.errorCode]).toEqual([403, 'INVALID_CREDENTIALS']);
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
