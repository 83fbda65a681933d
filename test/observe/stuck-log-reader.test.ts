import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { builtCliOnDemo } from '../support/built-cli.js';
import { freePort } from '../support/net.js';

/**
 * A log reader that stops reading (a stuck shipper, a paused container log), or that is gone,
 * must not keep the server from exiting: after SIGTERM it drains its calls, then gives up the
 * log lines it can no longer write within a bounded time, instead of waiting for the reader
 * for ever.
 */
const { cli, fixture } = builtCliOnDemo();

/** The demo server with its stdout on a pipe to this process, and stderr kept; resolves once it answers. */
async function serveWithPipedStdout() {
  const port = await freePort();
  const managementPort = await freePort();
  const child = spawn(process.execPath, [cli(), 'serve', '--config', fixture.mainFile], {
    env: { ...process.env, PORT: String(port), MANAGEMENT_PORT: String(managementPort), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: performance.now() })),
  );
  let up = false;
  for (let i = 0; i < 200 && !up; i++) {
    up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!up) await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port, exited, up, stderr: () => stderr };
}

describe('a stdout nobody reads', () => {
  it('holds the server up at SIGTERM for a bounded time, not until the reader comes back', async () => {
    const { child, port, exited, up } = await serveWithPipedStdout();
    // Never read until the end: the pipe fills, and the server's log writes wait.
    child.stdout.pause();
    try {
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

  it('whose reader is gone: the server exits at SIGTERM at once, and says on stderr that its log stopped', async () => {
    const { child, port, exited, up, stderr } = await serveWithPipedStdout();
    try {
      expect(up).toBe(true);
      // The reading end closes: every write to the server's stdout now fails with EPIPE. SIGTERM
      // comes before any background write could notice, so the lines of the shutdown meet the
      // broken pipe in the exit path (which waited for it for ever before).
      child.stdout.destroy();
      const res = await fetch(`http://127.0.0.1:${port}/api/authentication/echo`, {
        method: 'PUT',
        headers: { tenant: 'demo', 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'till-001' }),
      });
      expect(res.status).toBe(200);
      const signalled = performance.now();
      child.kill('SIGTERM');
      const outcome = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(r, 10_000))]);
      expect(outcome).toEqual({ code: 0, at: expect.any(Number) });
      expect((outcome as { at: number }).at - signalled).toBeLessThan(5_000);
      expect(stderr()).toContain('log destination stdout stopped (EPIPE)');
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  }, 60_000);
});
