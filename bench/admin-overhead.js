// node bench/admin-overhead.js: what metrics and audit cost on the echo hot path. Runs the real
// server (dist/, so `npm run build` first) on copies of the demo config that differ only in
// `metrics.enabled` and `audit.enabled`, in interleaved rounds so machine noise spreads
// evenly. Prints per variant the median req/s and the median server CPU time per request
// (user+sys from /proc, which a busy machine disturbs far less than req/s), and their ratios
// to the variant with both off.
// Env: BENCH_SECONDS (default 8), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 32).
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { cpuTicks } from './measure.js';
import { waitReady } from './servers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);

const variants = [
  { name: 'metrics off, audit off', metrics: { enabled: false }, audit: { enabled: false } },
  { name: 'metrics on, audit off', metrics: { enabled: true }, audit: { enabled: false } },
  { name: 'metrics on, audit on', metrics: { enabled: true }, audit: { enabled: true } },
];

const dir = mkdtempSync(join(tmpdir(), 'authpipe-bench-'));
// The whole demo (its directory, keys folder and pipes resolve relative to the main file).
cpSync(join(root, 'pipes'), join(dir, 'pipes'), { recursive: true });
cpSync(join(root, 'config'), join(dir, 'config'), { recursive: true });
const demo = JSON.parse(readFileSync(join(root, 'config', 'authpipe.json'), 'utf8'));
for (const [i, v] of variants.entries()) {
  writeFileSync(
    join(dir, 'config', `v${i}.json`),
    JSON.stringify({ ...demo, metrics: v.metrics, audit: v.audit, reload: { watch: false } }),
  );
}

async function start(configFile) {
  const port = 20000 + Math.floor(Math.random() * 2000);
  const child = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'serve', '--config', configFile], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.resume(); // logs and audit lines are written and drained, as in production
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/healthz`, 100, 300);
  return {
    url,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

const request = {
  method: 'PUT',
  headers: { 'content-type': 'application/json', tenant: 'demo' },
  body: JSON.stringify({ username: 'till-001', message: 'hello' }),
};
const rps = variants.map(() => []);
const cpu = variants.map(() => []);
const cpuSeconds = (pid) => cpuTicks(pid) / 100; // USER_HZ on Linux
try {
  for (let round = 0; round < rounds; round += 1) {
    for (const [i, v] of variants.entries()) {
      const server = await start(join(dir, 'config', `v${i}.json`));
      await autocannon({ url: `${server.url}/api/authentication/echo`, ...request, connections, duration: 2 });
      const before = cpuSeconds(server.pid);
      const result = await autocannon({ url: `${server.url}/api/authentication/echo`, ...request, connections, duration: seconds });
      const usPerCall = ((cpuSeconds(server.pid) - before) / result.requests.total) * 1e6;
      await server.stop();
      rps[i].push(Math.round(result.requests.average));
      cpu[i].push(Math.round(usPerCall * 10) / 10);
      console.log(
        JSON.stringify({
          round,
          variant: v.name,
          rps: Math.round(result.requests.average),
          cpuUsPerCall: cpu[i].at(-1),
          p50: result.latency.p50,
          p99: result.latency.p99,
          non2xx: result.non2xx,
        }),
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(rps[0]);
const baseCpu = median(cpu[0]);
console.log(`\n${rounds} rounds x ${seconds}s, ${connections} connections, node ${process.version}\n`);
console.log('| variant | median req/s (runs) | req/s vs both off | median CPU µs/call (runs) | CPU vs both off |');
console.log('|---|---|---|---|---|');
for (const [i, v] of variants.entries()) {
  console.log(
    `| ${v.name} | ${median(rps[i])} (${rps[i].join(', ')}) | ${(median(rps[i]) / base).toFixed(3)} | ${median(cpu[i])} (${cpu[i].join(', ')}) | ${(median(cpu[i]) / baseCpu).toFixed(3)} |`,
  );
}
