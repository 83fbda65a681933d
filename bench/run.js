// npm run bench: starts each server the scenarios need as its own process, loads it with
// autocannon (in this process) and prints requests/s, p50/p99 latency and the server's RSS.
// Options (env): BENCH_ROUNDS (default 9), BENCH_SECONDS per round (default 4),
// BENCH_CONNECTIONS (default 32), BENCH_ONLY (substring filter on scenario names; several separated by |).
// Results also go to bench/results/ (git-ignored).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, measureScenarioRound } from './measure.js';
import { medianInterval } from './median-interval.js';
import { verdict } from './targets.js';
import { scenarios } from './scenarios.js';
import { servers } from './servers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Nine rounds: on a shared 2-core host one round's ratio swings by ±20% or more, and the median
// of five moved from 0.78x to 0.95x between runs of the same code. The spread of a median falls
// with the square root of the rounds: nine narrow it by about a quarter, for about 40% more time.
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const only = process.env.BENCH_ONLY?.split('|');

const selected = scenarios.filter((s) => !only || only.some((part) => s.name.includes(part)));
const running = new Map();
const samples = new Map(selected.map((s) => [s.name, []]));
const requests = new Map();
try {
  // Round-robin: every scenario once per round, so that a slow patch of a shared machine
  // lands on every scenario alike rather than on whichever ran then; medians are reported.
  for (let round = 0; round < rounds; round += 1) {
    for (const scenario of selected) {
      if (!running.has(scenario.server)) running.set(scenario.server, await servers[scenario.server].start(root));
      const server = running.get(scenario.server);
      if (!requests.has(scenario.name)) {
        requests.set(scenario.name, scenario.prepare ? await scenario.prepare(server) : scenario.request);
        await load(server.url, requests.get(scenario.name), 2, connections); // warm-up: JIT, caches, connections
      }
      const request = requests.get(scenario.name);
      const sample = await measureScenarioRound(scenario, server, request, seconds, connections);
      samples.get(scenario.name).push(sample);
      console.log(JSON.stringify({ round: round + 1, scenario: scenario.name, ...sample }));
    }
  }
} finally {
  for (const server of running.values()) await server.stop();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const results = selected.map((scenario) => {
  const runs = samples.get(scenario.name);
  const row = {
    scenario: scenario.name,
    rounds: runs.map((r) => r.rps),
    cpuRounds: runs.map((r) => r.cpuUsPerReq),
    loopRounds: runs.map((r) => r.loopUsPerReq),
  };
  if (runs[0]?.sprayRps !== undefined) row.spray = runs.map((r) => ({ rps: r.sprayRps, status: r.sprayStatus }));
  for (const field of ['rps', 'p50', 'p99', 'cpuPct', 'cpuUsPerReq', 'loopUsPerReq', 'rssMiB'])
    row[field] = median(runs.map((r) => r[field]));
  row.non2xx = runs.reduce((sum, r) => sum + r.non2xx, 0);
  row.errors = runs.reduce((sum, r) => sum + r.errors, 0);
  return row;
});
for (const row of results) {
  const scenario = selected.find((s) => s.name === row.scenario);
  row.compare = (scenario.compare ?? []).flatMap(({ to, target }) => {
    const base = results.find((r) => r.scenario === to);
    const round = (x) => Math.round(x * 100) / 100;
    if (!base) return [];
    // Paired by round: both ran within the same minute, so a slow patch of the machine
    // cancels out of each round's ratio; the median of those is the figure reported.
    const ratios = row.rounds.map((rps, i) => rps / base.rounds[i]);
    const cpuRatios = row.cpuRounds.map((cpu, i) => base.cpuRounds[i] / cpu);
    const loopRatios = row.loopRounds.map((loop, i) => base.loopRounds[i] / loop);
    const p99Ratio = round(row.p99 / base.p99);
    const interval = medianInterval(ratios);
    return [
      {
        to,
        ratio: round(median(ratios)),
        // Where the median ratio lies with at least 90% confidence (bench/median-interval.js).
        interval: interval && { low: round(interval.low), high: round(interval.high), coverage: round(interval.coverage) },
        ratios: ratios.map(round),
        cpuRatio: round(median(cpuRatios)),
        loopRatio: round(median(loopRatios)),
        p99Ratio,
        target,
      },
    ];
  });
}

console.log(`\nmedians of ${rounds} rounds of ${seconds}s per scenario, ${connections} connections, node ${process.version}\n`);
console.log(
  '| scenario | req/s | req/s by round | p50 ms | p99 ms | server CPU % | CPU µs/req | event-loop µs/req | RSS MiB | non-2xx | vs: req/s ratio [where its median lies, at least 90% sure] (by round), CPU/req ratio, event-loop/req ratio (target: verdict); medians of the per-round ratios |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const versus = r.compare
    .map(
      (c) =>
        `${c.to}: ${c.ratio}x${c.interval ? ` [${c.interval.low}–${c.interval.high}]` : ''} (${c.ratios.join(' ')}), ${c.cpuRatio}x, loop ${c.loopRatio}x, p99 ${c.p99Ratio}x${c.target ? ` (target ${c.target}: ${verdict(c)})` : ''}`,
    )
    .join('; ');
  console.log(
    `| ${r.scenario} | ${r.rps} | ${r.rounds.join(' ')} | ${r.p50} | ${r.p99} | ${r.cpuPct} | ${r.cpuUsPerReq} | ${r.loopUsPerReq} | ${r.rssMiB} | ${r.non2xx} | ${versus} |`,
  );
}
for (const r of results.filter((row) => row.spray))
  console.log(
    `${r.scenario}, the spray alongside by round: ${r.spray.map((s) => `${s.rps} req/s ${JSON.stringify(s.status)}`).join('; ')}`,
  );
// The targets, judged by where each median lies (bench/targets.js). A target the whole
// interval misses, or whose p99 ratio is above its maximum, fails the run (exit 1); one within
// the noise is said, not failed.
const judged = results.flatMap((r) => r.compare.filter((c) => c.target).map((c) => ({ scenario: r.scenario, ...c, verdict: verdict(c) })));
if (judged.length > 0) {
  console.log('\ntargets:');
  for (const c of judged)
    console.log(
      `  ${c.verdict.padEnd(12)} ${c.scenario} vs ${c.to}: ${c.ratio}x${c.interval ? ` [${c.interval.low}–${c.interval.high}]` : ''}, p99 ${c.p99Ratio}x (target ${c.target})`,
    );
  if (judged.some((c) => c.verdict === 'missed')) process.exitCode = 1;
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(root, 'bench', 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
  JSON.stringify({ rounds, seconds, connections, node: process.version, results }, null, 2),
);
