import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { ConfigFixture } from '../support/fixture.js';
import { waitReady } from '../support/ready.js';
import { describeWithRedis, RedisServer, sleep } from '../support/redis.js';
import { startServer, type RunningServer } from '../support/server.js';
import { countPipe, storeCounter } from '../support/store-valve.js';

/**
 * Redis dies or hangs while calls keep coming: pipes that need the store answer 500
 * COMMUNICATION_ERROR within 1 s (never 200, never a hang), pipes that do not keep
 * answering 200, and the server serves again within 5 s of Redis coming back.
 */
interface Outcome {
  start: number;
  end: number;
  status: number;
  code: string | undefined;
}

describeWithRedis('failing closed with Redis down', () => {
  let redis: RedisServer;
  let fixture: ConfigFixture;
  let server: RunningServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
    fixture = ConfigFixture.minimal(
      [{ id: 'demo', allowedOperation: ['count', 'echo'] }],
      {
        count: countPipe(),
        echo: { valves: [{ name: 'property-copy', config: { from: 'request', properties: ['username'] } }], response: ['username'] },
      },
      { store: { type: 'redis', url: redis.url } },
    );
    server = await startServer({ configFile: fixture.mainFile, valves: [storeCounter] });
    await waitReady(server.url);
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
    fixture?.cleanup();
  });

  /** Four callers in a loop, each call timed, until stop() is called. */
  function load(username: string) {
    const outcomes: Outcome[] = [];
    let running = true;
    const caller = async () => {
      while (running) {
        const start = performance.now();
        const res = await server.call('count', { username }, {});
        outcomes.push({ start, end: performance.now(), status: res.status, code: res.body?.errorTranslationKeys?.[0] });
      }
    };
    const callers = Array.from({ length: 4 }, caller);
    return {
      outcomes,
      /** Waits until a few calls have succeeded: the healthy phase, however slow the machine. */
      async healthy() {
        const until = performance.now() + 5000;
        while (outcomes.filter((o) => o.status === 200).length < 8 && performance.now() < until) await sleep(20);
        expect(outcomes.filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(8);
      },
      async stop() {
        running = false;
        await Promise.all(callers);
      },
    };
  }

  async function firstSuccessAfter(outcomes: Outcome[], since: number, limitMs: number): Promise<Outcome | undefined> {
    while (performance.now() - since < limitMs) {
      const ok = outcomes.find((o) => o.status === 200 && o.start >= since);
      if (ok) return ok;
      await sleep(20);
    }
    return outcomes.find((o) => o.status === 200 && o.start >= since);
  }

  function checkEveryAnswer(outcomes: Outcome[]): void {
    for (const o of outcomes) {
      expect(o.end - o.start).toBeLessThan(1000);
      expect([200, 500]).toContain(o.status);
      if (o.status === 500) expect(o.code).toBe('COMMUNICATION_ERROR');
    }
  }

  it('killed: no 200 while down, every answer within 1 s, serving again within 5 s', async () => {
    const run = load('killed');
    await run.healthy();
    const killing = performance.now();
    await redis.kill('SIGKILL');
    const killed = performance.now();

    // While down: the store-free pipe still works; readiness says no, quickly.
    const echo = await server.call('echo', { username: 'u' });
    expect(echo.status).toBe(200);
    const readyStarted = performance.now();
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(performance.now() - readyStarted).toBeLessThan(1000);
    await sleep(1500);

    const restarting = performance.now();
    await redis.start();
    const back = performance.now();
    const recovered = await firstSuccessAfter(run.outcomes, back, 5000);
    await sleep(200);
    await run.stop();

    const { outcomes } = run;
    checkEveryAnswer(outcomes);
    expect(outcomes.filter((o) => o.end < killing && o.status === 200).length).toBeGreaterThan(0);
    const whileDown = outcomes.filter((o) => o.start >= killed && o.end <= restarting);
    expect(whileDown.length).toBeGreaterThan(20);
    expect(whileDown.every((o) => o.status === 500)).toBe(true);
    expect(recovered).toBeDefined();
    expect((recovered as Outcome).end - back).toBeLessThan(5000);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  }, 20_000);

  it('hung (SIGSTOP): answers 500 within 1 s instead of waiting, serving again within 5 s', async () => {
    const run = load('hung');
    await run.healthy();
    const pausing = performance.now();
    redis.pause();
    const readyStarted = performance.now();
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    expect(performance.now() - readyStarted).toBeLessThan(1000);
    await sleep(1500);
    const resuming = performance.now();
    redis.resume();
    const recovered = await firstSuccessAfter(run.outcomes, resuming, 5000);
    await sleep(200);
    await run.stop();

    const { outcomes } = run;
    checkEveryAnswer(outcomes);
    // A call in flight at the pause may have been answered just before it; later ones may not.
    const whileHung = outcomes.filter((o) => o.start >= pausing + 50 && o.end <= resuming);
    expect(whileHung.length).toBeGreaterThan(4);
    expect(whileHung.every((o) => o.status === 500)).toBe(true);
    expect(recovered).toBeDefined();
    expect((recovered as Outcome).end - resuming).toBeLessThan(5000);
  }, 20_000);
});
