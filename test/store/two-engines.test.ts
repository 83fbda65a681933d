import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { basic } from '../support/credentials.js';
import { ConfigFixture } from '../support/fixture.js';
import { waitReady } from '../support/ready.js';
import { describeWithRedis, RedisServer } from '../support/redis.js';
import { startServer, type RunningServer } from '../support/server.js';
import { countPipe, storeCounter } from '../support/store-valve.js';
import { codeFor } from '../otp/outbox.js';
import { tokenFixture } from '../tokens/support.js';
import { approvalFixture, MANAGER_MOBILE, startApproval } from '../support/approval.js';
import { adminCall, adminToken, editJson } from '../access-groups/support.js';

/**
 * Two engines on one Redis share every piece of state: lockout counters, OTP transactions,
 * refresh-token families, rate counters. Each engine has its own app, registry, config load and Redis
 * connection, as separate processes would (test/cli/workers.test.ts runs real processes).
 * The store deadline is generous here: this suite is about shared state, fail-closed.test.ts
 * about time.
 */
const REDIS_STORE = (url: string) => ({ type: 'redis', url, command_timeout_ms: 2000 });

function useRedis(fixture: ConfigFixture, url: string): void {
  const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
  main.store = REDIS_STORE(url);
  fixture.writeMain(main);
}

interface Engines {
  a: RunningServer;
  b: RunningServer;
  fixture: ConfigFixture;
}

/**
 * Two engines on the fixture `make` builds, started before the enclosing describe's tests (A
 * first, so B finds the signing key A generated) and closed after them, fixture removed.
 */
function twoEngines(make: () => ConfigFixture, options: { valves?: [typeof storeCounter] } = {}): Engines {
  const engines = {} as Engines;
  beforeAll(async () => {
    engines.fixture = make();
    engines.a = await startServer({ configFile: engines.fixture.mainFile, ...options });
    engines.b = await startServer({ configFile: engines.fixture.mainFile, ...options });
    await Promise.all([waitReady(engines.a.managementUrl), waitReady(engines.b.managementUrl)]);
  });
  afterAll(async () => {
    await engines.a?.close();
    await engines.b?.close();
    engines.fixture?.cleanup();
  });
  return engines;
}

describeWithRedis('two engines on one Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  describe('admin changes (engines sharing the config files, watchers off)', () => {
    const e = twoEngines(() => {
      const fixture = ConfigFixture.fromDemo();
      useRedis(fixture, redis.url);
      editJson(fixture, 'config/authpipe.json', (main) => {
        main.reload = { watch: false, store_poll_ms: 100 };
      });
      return fixture;
    });
    const readyz = async (engine: RunningServer) => (await (await fetch(`${engine.managementUrl}/readyz`)).json()) as { version: string; published?: { version: string; matches: boolean } };
    const groupOfTill = async (engine: RunningServer) => (await engine.call('till-login', {}, { authorization: basic('till-001', 'till-001-pass') })).body.access_group;

    it('an admin change on one engine reaches the other through the store; an engine whose files differ says so on /readyz', async () => {
      expect(await groupOfTill(e.b)).toBe('POS');
      // A third engine on its own copy of the files, with one pipe edited: another version.
      const other = ConfigFixture.fromDemo();
      useRedis(other, redis.url);
      editJson(other, 'config/authpipe.json', (main) => {
        main.reload = { watch: false, store_poll_ms: 100 };
      });
      editJson(other, 'pipes/echo.json', (pipe) => {
        pipe.response = ['username'];
      });
      const c = await startServer({ configFile: other.mainFile });
      try {
        const token = await adminToken(e.a);
        const etag = (await adminCall(e.a, 'GET', '/Instore', { token })).headers.get('etag') as string;
        const moved = await adminCall(e.a, 'POST', '/Instore/stores', { token, ifMatch: etag, body: { add: [{ store: 'store-01', from: 'POS' }] } });
        expect(moved.status).toBe(200);
        const version = (await readyz(e.a)).version;
        expect(await redis.command('GET', 'authpipe:config:version')).toContain(version);

        const until = Date.now() + 5000;
        while ((await readyz(e.b)).version !== version && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
        expect(await readyz(e.b)).toMatchObject({ version, published: { version, matches: true } });
        expect(await groupOfTill(e.b)).toBe('Instore');

        while ((await readyz(c)).published === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
        const seen = await readyz(c);
        expect(seen.version).not.toBe(version);
        expect(seen.published).toEqual({ version, matches: false });
      } finally {
        await c.close();
        other.cleanup();
      }
    });
  });

  describe('lockout (demo till-login)', () => {
    const e = twoEngines(() => {
      const fixture = ConfigFixture.fromDemo();
      useRedis(fixture, redis.url);
      return fixture;
    });

    const login = (engine: RunningServer, password: string) => engine.call('till-login', {}, { authorization: basic('till-002', password) });

    it('failures on both engines add up to one lock, seen by both', async () => {
      // The demo threshold is 5: alternate the failures over the two engines.
      let locking = 0;
      for (let i = 0; i < 5; i++) {
        if (i === 4) locking = performance.now();
        const res = await login(i % 2 === 0 ? e.a : e.b, `wrong-${i}`);
        expect(res.status).toBe(403);
        expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
      }
      for (const engine of [e.a, e.b]) {
        const res = await login(engine, 'till-002-pass');
        expect(res.status).toBe(403);
        expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
      }
      const pttl = Number(/^:(\d+)/.exec(await redis.command('PTTL', 'authpipe:{demo}:lockout:till:till-002:lock'))?.[1]);
      // A 60 s lock, less what has passed since the failure that set it (a loaded machine may take seconds).
      expect(pttl).toBeGreaterThan(60_000 - (performance.now() - locking) - 1_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
      // The lock is the only thing in the way: without it, the right password passes on both.
      await redis.command('DEL', 'authpipe:{demo}:lockout:till:till-002:lock');
      expect((await login(e.b, 'till-002-pass')).status).toBe(200);
      expect((await login(e.a, 'till-002-pass')).status).toBe(200);
    }, 60_000); // each refusal takes the failure floor
  });

  describe('refresh-token families (token valves)', () => {
    const e = twoEngines(() => {
      const fixture = tokenFixture();
      useRedis(fixture, redis.url);
      return fixture;
    });

    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    async function userLogin(engine: RunningServer) {
      const res = await engine.call('user-login', { username: 'user-1' });
      expect(res.status).toBe(200);
      return res.body as { access_token: string; refresh_token: string };
    }

    it('a token rotated on one engine is spent on the other; the reuse revokes the family on both', async () => {
      const first = await userLogin(e.a);
      const rotated = await e.b.call('token-refresh', { refresh_token: first.refresh_token });
      expect(rotated.status).toBe(200);
      const reuse = await e.a.call('token-refresh', { refresh_token: first.refresh_token });
      expect(reuse.status).toBe(403);
      expect(reuse.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
      expect((await e.b.call('token-refresh', { refresh_token: rotated.body.refresh_token })).status).toBe(403);
      for (const engine of [e.a, e.b]) expect((await engine.call('introspect', {}, bearer(rotated.body.access_token))).status).toBe(403);
      const sid = decodeJwt(first.refresh_token).sid as string;
      expect(await redis.command('GET', `authpipe:{demo}:token-family:${sid}`)).toMatch(/"revoked":true/);
    });

    it('a family revoked (logout) on one engine is revoked on the other', async () => {
      const pair = await userLogin(e.a);
      expect((await e.b.call('introspect', {}, bearer(pair.access_token))).status).toBe(200);
      const logout = await e.a.call('logout', { refresh_token: pair.refresh_token });
      expect(logout.status).toBe(200);
      const refreshed = await e.b.call('token-refresh', { refresh_token: pair.refresh_token });
      expect(refreshed.status).toBe(403);
      expect(refreshed.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
      expect((await e.b.call('introspect', {}, bearer(pair.access_token))).status).toBe(403);
    });

    it('20 parallel refreshes of one token over both engines: exactly one succeeds', async () => {
      const first = await userLogin(e.a);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? e.a : e.b).call('token-refresh', { refresh_token: first.refresh_token })));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 403 && r.body.errorTranslationKeys[0] === 'TOKEN_INVALID')).toHaveLength(19);
    });
  });

  describe('counters (rate-limit and a test counter valve)', () => {
    const LIMIT = 5;
    const e = twoEngines(
      () =>
        ConfigFixture.minimal(
          [
            { id: 'demo', allowedOperation: ['count', 'limited'] },
            { id: 'acme', allowedOperation: ['count', 'limited'] },
          ],
          {
            count: countPipe(LIMIT, 60_000),
            limited: {
              valves: [{ name: 'rate-limit', config: { key: '{{request.username}}', limit: LIMIT, window_seconds: 60, erroneous_properties: ['username'] } }],
              response: [],
            },
          },
          { store: REDIS_STORE(redis.url) },
        ),
      { valves: [storeCounter] },
    );

    it('counts on both add up, and the limit holds on both', async () => {
      const counts: string[] = [];
      for (let i = 0; i < LIMIT; i++) {
        const res = await (i % 2 === 0 ? e.a : e.b).call('count', { username: 'till-1' });
        expect(res.status).toBe(200);
        counts.push(res.body.count);
      }
      expect(counts).toEqual(['1', '2', '3', '4', '5']);
      for (const engine of [e.a, e.b]) {
        const res = await engine.call('count', { username: 'till-1' });
        expect(res.status).toBe(403);
        expect(res.body.errorTranslationKeys).toEqual(['RATE_LIMITED']);
      }
    });

    it('rate-limit: 30 parallel calls split over both engines let exactly the limit through', async () => {
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? e.a : e.b).call('limited', { username: 'till-parallel' })));
      expect(results.filter((r) => r.status === 200)).toHaveLength(LIMIT);
      const refused = results.filter((r) => r.status === 403);
      expect(refused).toHaveLength(30 - LIMIT);
      for (const r of refused) {
        expect(r.body.errorTranslationKeys).toEqual(['RATE_LIMITED']);
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(50);
      }
    });

    it('tenants stay apart across engines', async () => {
      for (let i = 0; i < LIMIT; i++) expect((await e.a.call('count', { username: 'shared-name' })).status).toBe(200);
      expect((await e.b.call('count', { username: 'shared-name' })).status).toBe(403);
      const other = await e.b.call('count', { username: 'shared-name' }, { tenant: 'acme' });
      expect(other.status).toBe(200);
      expect(other.body.count).toBe('1');
      expect(await redis.command('GET', 'authpipe:{acme}:count:shared-name')).toBe('$1\r\n1\r\n');
    });
  });

  describe('one-time codes (otp-issue, otp-verify)', () => {
    let outbox = '';
    let seq = 0;
    const freshMobile = () => `+1555${String(2000000 + ++seq)}`;

    const e = twoEngines(() => {
      const fixture = ConfigFixture.minimal(
        [{ id: 'demo', allowedOperation: ['otp-start', 'otp-verify'] }],
        { 'otp-verify': { valves: [{ name: 'otp-verify', config: { max_attempts: 3, expects: 'recipient' } }], response: ['recipient'] } },
        { store: REDIS_STORE(redis.url) },
      );
      outbox = join(fixture.dir, 'var', 'otp-outbox.jsonl');
      fixture.writePipe('otp-start', {
        valves: [{ name: 'otp-issue', config: { user_by: 'none', sender: { type: 'outbox', file: outbox } } }],
        response: ['transaction_id'],
      });
      return fixture;
    });

    async function start(engine: RunningServer, mobile: string): Promise<{ id: string; code: string }> {
      const res = await engine.call('otp-start', { mobile });
      expect(res.status).toBe(200);
      const id = res.body.transaction_id as string;
      return { id, code: await codeFor(outbox, id) };
    }
    const verify = (engine: RunningServer, transaction_id: string, otp: string) => engine.call('otp-verify', { transaction_id, otp });
    const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(code.length, '0');

    it('a code issued on one engine is verified on the other, once', async () => {
      const mobile = freshMobile();
      const { id, code } = await start(e.a, mobile);
      const ok = await verify(e.b, id, code);
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ recipient: mobile });
      for (const engine of [e.a, e.b]) {
        const again = await verify(engine, id, code);
        expect(again.status).toBe(403);
        expect(again.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
      }
    });

    it('wrong attempts on both engines add up to the limit', async () => {
      const { id, code } = await start(e.b, freshMobile());
      for (const engine of [e.a, e.b, e.a]) expect((await verify(engine, id, wrong(code))).status).toBe(403);
      const late = await verify(e.b, id, code);
      expect(late.status).toBe(403);
      expect(late.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
      // The control: two wrong attempts (one per engine) leave the right code usable.
      const other = await start(e.a, freshMobile());
      for (const engine of [e.a, e.b]) expect((await verify(engine, other.id, wrong(other.code))).status).toBe(403);
      expect((await verify(e.a, other.id, other.code)).status).toBe(200);
    });

    it('parallel right answers over both engines: exactly one wins', async () => {
      const { id, code } = await start(e.a, freshMobile());
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => verify(i % 2 ? e.a : e.b, id, code)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 403 && r.body.errorTranslationKeys[0] === 'OTP_INVALID')).toHaveLength(9);
    });
  });

  describe('chained till approval (demo till-approval-start, till-approval-verify)', () => {
    let outbox = '';
    const e = twoEngines(() => {
      const setup = approvalFixture((main) => {
        main.store = REDIS_STORE(redis.url);
      });
      outbox = setup.outbox;
      return setup.fixture;
    });
    const verify = (engine: RunningServer, flow_id: string, otp: string) => engine.call('till-approval-verify', { flow_id, otp });

    it('a flow started on one engine is finished on the other, once', async () => {
      const { flowId, code } = await startApproval(e.a, outbox, 'till-001', MANAGER_MOBILE['store-01']);
      const done = await verify(e.b, flowId, code);
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ sub: 'till-001', approved_by: 'u-2001', expires_in: '600' });
      for (const engine of [e.a, e.b]) expect((await verify(engine, flowId, code)).body.errorTranslationKeys).toEqual(['FLOW_INVALID']);
    });

    it('parallel continuations over both engines: exactly one wins', async () => {
      const { flowId, code } = await startApproval(e.b, outbox, 'till-201', MANAGER_MOBILE['store-02']);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => verify(i % 2 ? e.a : e.b, flowId, code)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 403 && r.body.errorTranslationKeys[0] === 'FLOW_INVALID')).toHaveLength(9);
    });
  });
});
