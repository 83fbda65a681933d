// What each optional feature costs till-login: the bare server, authpipe on the demo config,
// and authpipe on copies of it with one feature off (and with all of them off), every server
// started once and kept running, measured in alternated rounds (the order reversed every other
// round), with the medians of each round's ratio to the bare server. The full bench restarts
// nothing either but runs ten other scenarios between a pair's rounds; here the rounds come
// back to back, so a slow patch of a shared machine lands on all variants alike.
//
//   npm run build && node bench/feature-cost.js            (BENCH_ROUNDS 16, BENCH_SECONDS 2)
//
// The demo's features that stay on in the bench's measured config (audit events, the call line,
// metrics, the per-address failure limit) are what a user relies on; this says what each is
// worth in the ratio, for deciding which may change form.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, measureRound } from './measure.js';
import { scenarios } from './scenarios.js';
import { servers } from './servers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.env.BENCH_ROUNDS ?? 16);
const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const request = scenarios.find((s) => s.name.startsWith('authpipe till-login (')).request;

/** Each variant edits a copy of the main file, or of the till-login pipe. */
const off = {
  audit: (main) => (main.audit = { enabled: false }),
  'call line': (main) => (main.log = { level: 'warn' }),
  metrics: (main) => (main.metrics = { enabled: false }),
  'failure limit': (_main, pipe) => (pipe.valves = pipe.valves.filter((v) => v.name !== 'rate-limit')),
};
const variants = [['demo config', []], ...Object.keys(off).map((name) => [`${name} off`, [name]]), ['all four off', Object.keys(off)]];

// Copies of config/ hold its secrets and the generated signing keys: removed however the run
// ends (servers.js exits the process on a signal, past any finally here).
const dirs = [];
process.on('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function configWithout(features) {
  const dir = mkdtempSync(join(tmpdir(), 'authpipe-feature-cost-'));
  dirs.push(dir);
  cpSync(join(root, 'config'), join(dir, 'config'), { recursive: true });
  cpSync(join(root, 'pipes'), join(dir, 'pipes'), { recursive: true });
  const mainFile = join(dir, 'config', 'authpipe.json');
  const pipeFile = join(dir, 'pipes', 'till-login.json');
  const main = JSON.parse(readFileSync(mainFile, 'utf8'));
  const pipe = JSON.parse(readFileSync(pipeFile, 'utf8'));
  for (const feature of features) off[feature](main, pipe);
  writeFileSync(mainFile, JSON.stringify(main));
  writeFileSync(pipeFile, JSON.stringify(pipe));
  return mainFile;
}

const sides = [{ label: 'bare node:http till-login', server: await servers['bare-login'].start(root) }];
try {
  for (const [label, features] of variants) sides.push({ label, server: await servers.authpipe.start(root, {}, configWithout(features)) });
  for (const side of sides) {
    await load(side.server.url, request, 2);
    side.rounds = [];
  }
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 ? [...sides].reverse() : sides) {
      const figures = await measureRound(side.server, request, seconds);
      // A variant whose edit broke till-login would answer fast refusals and look cheap.
      if (figures.non2xx || figures.errors)
        throw new Error(`${side.label}: ${figures.non2xx} non-2xx and ${figures.errors} errors in round ${round + 1}`);
      side.rounds.push(figures);
    }
    process.stderr.write(`round ${round + 1} of ${rounds}\n`);
  }
} finally {
  await Promise.all(sides.map((side) => side.server.stop()));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const [bare] = sides;
console.log(`\nmedians of ${rounds} alternated rounds of ${seconds}s, till-login, node ${process.version}\n`);
console.log('| server | req/s | ratio to bare (median of the rounds) | CPU µs/req | event-loop µs/req | p99 ms |');
console.log('|---|---|---|---|---|---|');
for (const side of sides) {
  const ratios = side.rounds.map((r, i) => r.rps / bare.rounds[i].rps);
  const of = (field) => median(side.rounds.map((r) => r[field]));
  console.log(
    `| ${side.label} | ${of('rps')} | ${median(ratios).toFixed(2)} | ${of('cpuUsPerReq')} | ${of('loopUsPerReq')} | ${of('p99')} |`,
  );
}
