// npm run bench: starts each server the scenarios need as its own process, loads it with
// autocannon (in this process) and prints requests/s, p50/p99 latency and the server's RSS.
// Options (env): BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 32),
// BENCH_ONLY (substring filter on scenario names). Results also go to bench/results/ (git-ignored).
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuTicks, load, rssMiB } from './measure.js';
import { scenarios } from './scenarios.js';
import { servers } from './servers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const only = process.env.BENCH_ONLY;

const selected = scenarios.filter((s) => !only || s.name.includes(only));
const running = new Map();
const results = [];
try {
  for (const scenario of selected) {
    if (!running.has(scenario.server)) running.set(scenario.server, await servers[scenario.server].start(root));
    const server = running.get(scenario.server);
    const request = scenario.prepare ? await scenario.prepare(server) : scenario.request;
    await load(server.url, request, 2, connections); // warm-up: JIT, caches, connections
    const ticksBefore = cpuTicks(server.pid);
    const started = performance.now();
    const { total, ...figures } = await load(server.url, request, seconds, connections);
    const cpuSeconds = (cpuTicks(server.pid) - ticksBefore) / 100;
    const wall = (performance.now() - started) / 1000;
    // Server CPU per request is the steadier figure on a small machine where the load
    // generator competes for the same cores; CPU % shows whether the server was the limit.
    const row = { scenario: scenario.name, ...figures, cpuPct: Math.round((cpuSeconds / wall) * 100), cpuUsPerReq: Math.round((cpuSeconds * 1e6) / total), rssMiB: rssMiB(server.pid) };
    row.compare = (scenario.compare ?? []).flatMap(({ to, target }) => {
      const base = results.find((r) => r.scenario === to);
      const round = (x) => Math.round(x * 100) / 100;
      return base ? [{ to, ratio: round(row.rps / base.rps), cpuRatio: round(base.cpuUsPerReq / row.cpuUsPerReq), target }] : [];
    });
    results.push(row);
    console.log(JSON.stringify(row));
  }
} finally {
  for (const server of running.values()) await server.stop();
}

console.log(`\n${seconds}s per scenario, ${connections} connections, node ${process.version}\n`);
console.log('| scenario | req/s | p50 ms | p99 ms | server CPU % | CPU µs/req | RSS MiB | non-2xx | vs: req/s ratio, CPU/req ratio (target) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const versus = r.compare.map((c) => `${c.to}: ${c.ratio}x, ${c.cpuRatio}x${c.target ? ` (target ${c.target})` : ''}`).join('; ');
  console.log(`| ${r.scenario} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.cpuPct} | ${r.cpuUsPerReq} | ${r.rssMiB} | ${r.non2xx} | ${versus} |`);
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ seconds, connections, node: process.version, results }, null, 2));
