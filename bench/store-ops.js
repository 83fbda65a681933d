// Raw store operation latency, memory vs Redis, without HTTP: what a valve pays per store
// call. Run after `npm run build`:  node bench/store-ops.js
// Uses REDIS_URL when set; otherwise starts a throwaway redis-server on a free port.
// Options (env): STORE_OPS (per operation, default 20000), STORE_CONCURRENCY (default 64).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import pino from 'pino';
import { MemoryStore } from '../dist/store/memory.js';
import { RedisStore } from '../dist/store/redis.js';
import { resolveStoreSettings } from '../dist/store/settings.js';

const OPS = Number(process.env.STORE_OPS ?? 20000);
const CONCURRENCY = Number(process.env.STORE_CONCURRENCY ?? 64);

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

const ops = {
  set: (s, i) => s.set(`authpipe:{bench}:k${i % 1000}`, 'value', 60_000),
  get: (s, i) => s.get(`authpipe:{bench}:k${i % 1000}`),
  incr: (s, i) => s.incr(`authpipe:{bench}:n${i % 1000}`, 60_000),
  compareAndSet: (s, i) => s.compareAndSet(`authpipe:{bench}:c${i}`, null, 'v', 60_000),
  take: (s, i) => s.take(`authpipe:{bench}:c${i}`),
};

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function sequential(store, name) {
  const times = new Float64Array(OPS);
  for (let i = 0; i < OPS; i++) {
    const t = performance.now();
    await ops[name](store, i);
    times[i] = performance.now() - t;
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

async function concurrent(store, name) {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < OPS) await ops[name](store, OPS + next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return Math.round(OPS / ((performance.now() - started) / 1000));
}

const us = (ms) => `${(ms * 1000).toFixed(0)} µs`;
const redis = process.env.REDIS_URL ? { url: process.env.REDIS_URL, stop() {} } : await startRedis();
const { settings } = resolveStoreSettings({ type: 'redis', url: redis.url }, {}, '.');
const stores = { memory: new MemoryStore(), redis: new RedisStore(settings, pino({ level: 'silent' })) };
try {
  await stores.redis.ready();
  console.log(`store ops: ${OPS} per operation, sequential latency and throughput at ${CONCURRENCY} in flight (node ${process.version})`);
  console.log(['store', 'op', 'p50', 'p99', `ops/s @${CONCURRENCY}`].map((h) => h.padEnd(14)).join(''));
  for (const [kind, store] of Object.entries(stores)) {
    for (const name of Object.keys(ops)) {
      const { p50, p99 } = await sequential(store, name);
      const rate = await concurrent(store, name);
      console.log([kind, name, us(p50), us(p99), String(rate)].map((c) => c.padEnd(14)).join(''));
    }
  }
} finally {
  await stores.memory.close();
  await stores.redis.close();
  redis.stop();
}
