import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { builtCliOnDemo } from '../support/built-cli.js';
import { freePort } from '../support/net.js';

/**
 * A log reader that stops reading (a stuck shipper, a paused container log) must not keep the
 * server from exiting: after SIGTERM it drains its calls, then gives up the log lines it can
 * no longer write within a bounded time, instead of waiting for the reader for ever.
 */
const { cli, fixture } = builtCliOnDemo();

describe('a stdout nobody reads', () => {
  it('holds the server up at SIGTERM for a bounded time, not until the reader comes back', async () => {
    const port = await freePort();
    const managementPort = await freePort();
    const child = spawn(process.execPath, [cli(), 'serve', '--config', fixture.mainFile], {
      env: { ...process.env, PORT: String(port), MANAGEMENT_PORT: String(managementPort), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    // Never read until the end: the pipe fills, and the server's log writes wait.
    child.stdout.pause();
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.once('exit', (code) => resolve({ code, at: performance.now() })),
    );
    try {
      let up = false;
      for (let i = 0; i < 200 && !up; i++) {
        up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (!up) await new Promise((r) => setTimeout(r, 50));
      }
      expect(up).toBe(true);
      // Each call logs a line; a few megabytes of them fill any pipe.
      const body = JSON.stringify({ username: 'till-001', message: 'x'.repeat(100) });
      let calls = 0;
      const until = performance.now() + 3000;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (performance.now() < until) {
            const res = await fetch(`http://127.0.0.1:${port}/api/authentication/echo`, {
              method: 'PUT',
              headers: { tenant: 'demo', 'content-type': 'application/json' },
              body,
            });
            await res.text();
            if (res.status === 200) calls++;
          }
        }),
      );
      expect(calls).toBeGreaterThan(500);
      const signalled = performance.now();
      child.kill('SIGTERM');
      const outcome = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(r, 10_000))]);
      expect(outcome).toBeDefined();
      expect((outcome as { at: number }).at - signalled).toBeLessThan(10_000);
    } finally {
      child.stdout.resume();
      child.kill('SIGKILL');
      await exited;
    }
  }, 60_000);
});
