// A/B: is this change faster? Compares the working tree's build (B) with a git revision (A)
// on one authpipe scenario, alternating A and B for several rounds so that a slow patch of
// the machine (other tenants, thermal limits) hits both alike, and reports medians. On the
// shared 2-core reference machine one run swings by ±20%; alternating medians by ~3%.
//
//   npm run build && node bench/ab.js <rev> [scenario substring]
//   e.g. node bench/ab.js HEAD till-login      (what the uncommitted change is worth)
//
// Env: BENCH_ROUNDS (default 5), BENCH_SECONDS per round (default 5), BENCH_CONNECTIONS (32).
// A is built in a temporary git worktree sharing this checkout's node_modules.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServer } from '../scripts/build-server.mjs';
import { load, measureScenarioRound } from './measure.js';
import { scenarios } from './scenarios.js';
import { servers } from './servers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [rev, filter = 'till-login'] = process.argv.slice(2);
if (!rev) {
  console.error('usage: node bench/ab.js <git-rev> [scenario substring]');
  process.exit(2);
}
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const scenario = scenarios.find((s) => s.name.includes(filter) && s.server.startsWith('authpipe'));
if (!scenario) {
  console.error(`no authpipe scenario matches "${filter}"`);
  process.exit(2);
}

const base = mkdtempSync(join(tmpdir(), 'authpipe-ab-'));
const worktree = join(base, 'a');
const git = (...args) => execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
git('worktree', 'add', '--detach', worktree, rev);
try {
  symlinkSync(join(root, 'node_modules'), join(worktree, 'node_modules'));
  // Both sides compiled the same way, by this tree's build, whatever the revision's own build was.
  await buildServer(join(worktree, 'dist'), join(worktree, 'src'));
  const sides = [
    { name: `A ${rev}`, root: worktree, rps: [], cpu: [], loop: [] },
    { name: 'B working tree', root, rps: [], cpu: [], loop: [] },
  ];
  for (let round = 0; round < rounds; round += 1) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const server = await servers[scenario.server].start(side.root);
      try {
        const request = scenario.prepare ? await scenario.prepare(server) : scenario.request;
        await load(server.url, request, 1);
        const figures = await measureScenarioRound(scenario, server, request, seconds);
        side.rps.push(figures.rps);
        side.cpu.push(figures.cpuUsPerReq);
        side.loop.push(figures.loopUsPerReq);
        console.log(
          `round ${round + 1} ${side.name}: ${figures.rps} req/s, ${figures.cpuUsPerReq} CPU µs/req, ${figures.loopUsPerReq} event-loop µs/req` +
            (figures.sprayRps !== undefined ? `, alongside ${figures.sprayRps} req/s ${JSON.stringify(figures.sprayStatus)}` : ''),
        );
      } finally {
        await server.stop();
      }
    }
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const [a, b] = sides.map((s) => ({ name: s.name, rps: median(s.rps), cpu: median(s.cpu), loop: median(s.loop) }));
  console.log(`\n${scenario.name}: medians of ${rounds} rounds of ${seconds}s`);
  for (const side of [a, b]) console.log(`  ${side.name}: ${side.rps} req/s, ${side.cpu} CPU µs/req, ${side.loop} event-loop µs/req`);
  console.log(
    `  B/A: ${(b.rps / a.rps).toFixed(2)}x req/s, ${(a.cpu / b.cpu).toFixed(2)}x less CPU per request, ${(a.loop / b.loop).toFixed(2)}x less event-loop CPU per request`,
  );
} finally {
  git('worktree', 'remove', '--force', worktree);
  rmSync(base, { recursive: true, force: true });
}
