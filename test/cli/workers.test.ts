import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildCli, CliProcess, type BuiltCli } from '../support/built-cli.js';
import { ConfigFixture } from '../support/fixture.js';
import { describeWithRedis, RedisServer } from '../support/redis.js';
import { sample } from '../support/metrics-text.js';
import { ADMIN_SECRET, basic, editJson, TILL_PASSWORD } from '../access-groups/support.js';
import { freePort } from '../support/net.js';

/**
 * `authpipe serve --workers N` as real processes (what it refuses before forking is in
 * serve.test.ts): with Redis, N workers share one port, each with its own store connection, and share lockout
 * state; a dead worker is replaced; SIGTERM stops them all.
 */
let built: BuiltCli;
const started: CliProcess[] = [];
const workerPids = new Set<number>();

beforeAll(async () => {
  built = await buildCli();
}, 120_000);
afterAll(() => {
  for (const p of started) p.kill('SIGKILL');
  for (const pid of workerPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  built?.cleanup();
});

/**
 * Workers share each port through the primary, which keys its handles by address and port:
 * two listeners on port 0 would share one socket, so the management listener gets a port
 * of its own, known to the test.
 */
let managementPort = 0;
function serve(args: string[], env: Record<string, string>, config: ConfigFixture): CliProcess {
  const { REDIS_URL: _ignored, ...base } = process.env;
  const p = new CliProcess(built.cli, ['serve', '--config', config.mainFile, ...args], {
    ...base,
    PORT: '0',
    HOST: '127.0.0.1',
    MANAGEMENT_PORT: String(managementPort),
    ...env,
  });
  started.push(p);
  return p;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describeWithRedis('serve --workers 2 on Redis', () => {
  let redis: RedisServer;
  let fresh: ConfigFixture;
  beforeAll(async () => {
    redis = await RedisServer.start();
    fresh = ConfigFixture.fromDemo();
  });
  afterAll(async () => {
    await redis?.stop();
    fresh?.cleanup();
  });

  it('runs two workers on one port with their own Redis connections, replaces a dead one, stops on SIGTERM', async () => {
    expect(existsSync(join(fresh.dir, 'var', 'keys'))).toBe(false);
    managementPort = await freePort();
    const p = serve(['--workers', '2'], { REDIS_URL: redis.url }, fresh);
    const listening = () => p.logs().filter((l) => l.msg === 'worker listening' && l.port !== managementPort);
    const managed = () => p.logs().filter((l) => l.msg === 'worker listening' && l.port === managementPort);
    const first = await p.waitFor(() => (listening().length >= 2 ? listening() : undefined), 30_000);
    const pids = first.map((l) => l.pid as number);
    pids.forEach((pid) => workerPids.add(pid));
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(p.child.pid);
    const port = first[0]?.port as number;
    expect(first[1]?.port).toBe(port);

    // Each worker holds its own connection (named "authpipe"); the primary holds none.
    const clients = async () => ((await redis.command('CLIENT', 'LIST')).match(/name=authpipe /g) ?? []).length;
    const until = Date.now() + 5000;
    while ((await clients()) < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(await clients()).toBe(2);

    // The primary's config check created the signing keys before forking: one ES256 and one RS256 key per tenant, not per worker.
    for (const tenant of ['demo', 'acme'])
      expect(readdirSync(join(fresh.dir, 'var', 'keys', tenant)).filter((n) => n.endsWith('.json'))).toHaveLength(2);

    const url = `http://127.0.0.1:${port}`;
    const call = () =>
      fetch(`${url}/api/authentication/echo`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', tenant: 'demo', connection: 'close' },
        body: JSON.stringify({ username: 'till-001' }),
      });
    for (let i = 0; i < 10; i++) expect((await call()).status).toBe(200);
    // Both workers serve the management listener too; the public one has no operator routes.
    await p.waitFor(() => (managed().length >= 2 ? true : undefined), 30_000);
    expect((await fetch(`http://127.0.0.1:${managementPort}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(404);

    // Lockout across processes: each login on a fresh connection (node:cluster hands
    // connections to the workers in turn); five failures lock the till for every worker.
    const login = (password: string) =>
      fetch(`${url}/api/authentication/till-login`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          tenant: 'demo',
          connection: 'close',
          authorization: `Basic ${Buffer.from(`till-003:${password}`).toString('base64')}`,
        },
        body: '{}',
      });
    for (let i = 0; i < 5; i++) expect((await login(`wrong-${i}`)).status).toBe(403);
    for (let i = 0; i < 4; i++) expect((await login('till-003-pass')).status).toBe(403);
    expect(await redis.command('EXISTS', 'authpipe:{demo}:lockout:till:till-003:lock')).toBe(':1\r\n');

    process.kill(pids[0] as number, 'SIGKILL');
    const replacement = await p.waitFor(() => listening().find((l) => !pids.includes(l.pid as number)));
    workerPids.add(replacement.pid as number);
    expect(replacement.port).toBe(port);
    expect(p.logs().some((l) => l.msg === 'worker died; starting another' && l.pid === pids[0])).toBe(true);
    for (let i = 0; i < 5; i++) expect((await call()).status).toBe(200);

    p.kill('SIGTERM');
    const { code } = await p.exited;
    expect(code).toBe(0);
    for (const pid of [pids[1] as number, replacement.pid as number]) expect(alive(pid)).toBe(false);
  }, 30_000);

  it('answers /metrics with the sum over all workers, whichever worker is scraped; 503 when one stays silent', async () => {
    managementPort = await freePort();
    const p = serve(['--workers', '2'], { REDIS_URL: redis.url }, fresh);
    const listening = () => p.logs().filter((l) => l.msg === 'worker listening' && l.port !== managementPort);
    const workers = await p.waitFor(() => (listening().length >= 2 ? listening() : undefined), 30_000);
    workers.forEach((l) => workerPids.add(l.pid as number));
    await p.waitFor(
      () => (p.logs().filter((l) => l.msg === 'worker listening' && l.port === managementPort).length >= 2 ? true : undefined),
      30_000,
    );
    const url = `http://127.0.0.1:${workers[0]?.port as number}`;
    const managementUrl = `http://127.0.0.1:${managementPort}`;

    // Every request on a new connection: node:cluster hands connections to the workers in
    // turn, so both answer calls and both answer scrapes.
    const K = 11;
    for (let i = 0; i < K; i++) {
      const res = await fetch(`${url}/api/authentication/echo`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', tenant: 'demo', connection: 'close' },
        body: JSON.stringify({ username: 'till-001' }),
      });
      expect(res.status).toBe(200);
    }
    const scrape = async (timeoutMs = 5000) => {
      const res = await fetch(`${managementUrl}/metrics`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(timeoutMs) });
      return { status: res.status, text: await res.text() };
    };
    for (let i = 0; i < 6; i++) {
      const { status, text } = await scrape();
      expect(status).toBe(200);
      expect(sample(text, 'authpipe_calls_total{tenant="demo",operation="echo",outcome="success",code="",door="put"}')).toBe(K);
      expect(sample(text, 'authpipe_pipe_duration_seconds_count{pipe="echo",outcome="success"}')).toBe(K);
      expect(sample(text, 'authpipe_pipe_duration_seconds_bucket{le="+Inf",pipe="echo",outcome="success"}')).toBe(K);
      expect(text.match(/^authpipe_config_info\{.*$/gm)).toEqual([expect.stringMatching(/ 1$/)]); // one version, not one per worker
    }

    // A frozen worker never sends its share: the scrape fails (503, reason in a comment)
    // instead of passing one worker's counters off as the server's. The frozen worker may
    // be handed the first connection itself; that one hangs, the next goes to the other.
    const frozen = workers[0]?.pid as number;
    process.kill(frozen, 'SIGSTOP');
    try {
      let failed: { status: number; text: string } | undefined;
      for (let i = 0; i < 3 && !failed; i++) failed = await scrape(3500).catch(() => undefined);
      expect(failed?.status).toBe(503);
      expect(failed?.text).toMatch(/^# authpipe: metrics not available: worker\(s\) \d+ sent no metrics within 1500 ms/);
    } finally {
      process.kill(frozen, 'SIGCONT');
    }
    const after = await scrape();
    expect(after.status).toBe(200);
    expect(sample(after.text, 'authpipe_calls_total{tenant="demo",operation="echo",outcome="success",code="",door="put"}')).toBe(K);

    p.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
  }, 40_000);

  it('an admin change is on every worker when its answer arrives: 0 stale answers in 120 calls right after, watcher off', async () => {
    const config = ConfigFixture.fromDemo();
    editJson(config, 'config/authpipe.json', (main) => {
      main.reload = { watch: false, store_poll_ms: 0 };
    });
    try {
      managementPort = await freePort();
      const p = serve(['--workers', '2'], { REDIS_URL: redis.url }, config);
      const listening = () => p.logs().filter((l) => l.msg === 'worker listening' && l.port !== managementPort);
      const workers = await p.waitFor(() => (listening().length >= 2 ? listening() : undefined), 30_000);
      workers.forEach((l) => workerPids.add(l.pid as number));
      await p.waitFor(
        () => (p.logs().filter((l) => l.msg === 'worker listening' && l.port === managementPort).length >= 2 ? true : undefined),
        30_000,
      );
      const url = `http://127.0.0.1:${workers[0]?.port as number}`;
      const managementUrl = `http://127.0.0.1:${managementPort}`;
      // A fresh connection each: node:cluster hands connections to the workers in turn.
      const put = (operation: string, user: string, password: string) =>
        fetch(`${url}/api/authentication/${operation}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', tenant: 'demo', connection: 'close', authorization: basic(user, password) },
          body: '{}',
        }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, string> }));
      const groupOfTill = async () => (await put('till-login', 'till-001', TILL_PASSWORD)).body.access_group;
      for (let i = 0; i < 4; i++) expect(await groupOfTill()).toBe('POS'); // both workers have it cached

      const token = (await put('client-login', 'admin-console', ADMIN_SECRET)).body.access_token as string;
      const admin = { tenant: 'demo', authorization: `Bearer ${token}`, connection: 'close' };
      const etag = (await fetch(`${managementUrl}/admin/access-groups/Instore`, { headers: admin })).headers.get('etag') as string;
      const moved = await fetch(`${managementUrl}/admin/access-groups/Instore/stores`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json', 'if-match': etag },
        body: JSON.stringify({ add: [{ store: 'store-01', from: 'POS' }] }),
      });
      expect(moved.status).toBe(200);

      const answers: string[] = [];
      for (let i = 0; i < 120; i++) answers.push(String(await groupOfTill()));
      expect(answers.filter((g) => g !== 'Instore')).toEqual([]);
      // Engines on other machines learn the version through the store.
      const ready = (await (await fetch(`${managementUrl}/readyz`, { headers: { connection: 'close' } })).json()) as { version: string };
      expect(await redis.command('GET', 'authpipe:config:version')).toContain(ready.version);

      p.kill('SIGTERM');
      expect((await p.exited).code).toBe(0);
    } finally {
      config.cleanup();
    }
  }, 90_000);
});
