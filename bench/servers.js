// The servers the bench can start, each in its own process so RSS and CPU are its own.
import { fork, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { prepareOtpConfig } from './otp.js';

/** Polls `url` every 100 ms until it answers below `okBelow`; throws after `tries`. */
export async function waitReady(url, tries = 100, okBelow = 500) {
  for (let i = 0; i < tries; i += 1) {
    try {
      const res = await fetch(url);
      if (res.status < okBelow) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function startRedis() {
  const port = 16000 + Math.floor(Math.random() * 2000);
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  if (child.exitCode !== null) throw new Error('redis-server did not start (is it installed?)');
  return { url: `redis://127.0.0.1:${port}`, stop: stopper(child) };
}

// Servers still running when the bench itself ends (an error, Ctrl-C, a kill) go with it: left
// behind, they hold ports and CPU and skew the next run (one such server, its stdout's reader
// gone, also never exited on SIGTERM before logs had their own writer).
const live = new Set();
const stopAll = () => {
  for (const child of live) child.kill('SIGKILL');
};
process.once('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    stopAll();
    process.exit(128 + constants.signals[signal]);
  });
}

function stopper(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
}

async function startBare(root, script) {
  const child = fork(join(root, 'bench', script), [], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const { port } = await new Promise((resolve, reject) => child.once('message', resolve).once('exit', reject));
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: stopper(child) };
}

export const servers = {
  bare: { start: (root) => startBare(root, 'bare-server.js') },
  'bare-login': { start: (root) => startBare(root, 'bare-login-server.js') },
  // node-oidc-provider's client-credentials grant issuing ES256 JWT access tokens (bench/oidc-provider.js).
  oidc: {
    async start(root) {
      const child = spawn(process.execPath, [join(root, 'bench', 'oidc-provider.js')], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
      const line = await new Promise((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`oidc-provider exited ${code}`)));
      });
      const { url, requestOptions } = JSON.parse(line);
      return { url, requestOptions, pid: child.pid, stop: stopper(child) };
    },
  },
  authpipe: {
    // The real server on the shipped demo config, logging its info lines as in production
    // (to a pipe this process drains, so the cost of logging is counted).
    // BENCH_REDIS=1: on a throwaway redis-server instead of the memory store.
    // BENCH_WORKERS=N: `serve --workers N` (needs BENCH_REDIS=1; memory is refused with workers).
    async start(root, extraEnv = {}, configFile = join(root, 'config', 'authpipe.json')) {
      const port = 18000 + Math.floor(Math.random() * 2000);
      const redis = process.env.BENCH_REDIS === '1' ? await startRedis() : null;
      const workers = process.env.BENCH_WORKERS ? ['--workers', process.env.BENCH_WORKERS] : [];
      const child = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'serve', '--config', configFile, ...workers], {
        cwd: root,
        // The management listener (readyz, metrics) on the next port, not the default 9090 another server may hold.
        env: {
          ...process.env,
          PORT: String(port),
          MANAGEMENT_PORT: String(port + 1),
          HOST: '127.0.0.1',
          NODE_ENV: 'production',
          ...(redis ? { REDIS_URL: redis.url } : {}),
          ...extraEnv,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      // Drained as in production. Its first 8 KiB are kept, to say why a server did not come up
      // (start-up errors are log lines on stdout); after that nothing is read but the drain.
      let head = '';
      const keep = (chunk) => {
        head += chunk;
        if (head.length < 8192) return;
        child.stdout.off('data', keep);
        child.stdout.resume();
      };
      child.stdout.on('data', keep);
      const url = `http://127.0.0.1:${port}`;
      // /healthz is on the public listener in every revision (/readyz moved to the management one).
      // Start-up calibrates the password hashes: on a loaded machine that takes well over 10 s.
      // A server that exits while starting fails at once, not after the wait.
      const exited = new Promise((resolve) => child.once('exit', (code) => resolve(new Error(`the server exited ${code}`))));
      const failure = await Promise.race([
        waitReady(`${url}/healthz`, 600, 300).then(
          () => undefined,
          (err) => err,
        ),
        exited,
      ]);
      if (failure) {
        child.kill('SIGKILL');
        throw new Error(`${failure.message} (${url}); its log began:\n${head.slice(0, 8192)}`);
      }
      const stop = stopper(child);
      // With workers, the CPU and RSS figures are the whole process tree's (bench/measure.js).
      return { url, pid: child.pid, stop: () => stop().finally(() => redis?.stop()) };
    },
  },
  'authpipe-otp': {
    // The demo config plus a bench-only otp-start without resend limits (see bench/otp.js).
    async start(root) {
      const config = prepareOtpConfig(root);
      const server = await servers.authpipe.start(root, {}, config.configFile);
      return { ...server, outbox: config.outbox, stop: () => server.stop().finally(config.cleanup) };
    },
  },
};
