// Where a till-login's CPU goes: the server's CPU µs per request on the demo config, then on
// copies of it with one piece taken away at a time. The difference to the full pipe is what
// that piece costs a call. All variants run side by side and alternate, round by round, so a
// slow patch of the machine hits each alike; medians are reported. The bare node:http
// till-login (bench/bare-login-server.js, same crypto and the same answer) is the floor, and
// each variant's req/s ratio to it is the figure the bench's till-login target reads. The last
// variant leaves out all four features the measured config keeps (audit, info logs, metrics,
// the failure limit): together they cost more than any one alone shows above the noise.
//
//   npm run build && node bench/breakdown.js
//
// Env: BENCH_ROUNDS (default 5), BENCH_SECONDS per round (default 4), BENCH_CONNECTIONS (32),
// BENCH_ONLY (only the variants whose name contains it, or one of several separated by |, beside
// the full pipe and the floor: eleven servers at once crowd two cores, and fewer give steadier
// differences).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, measureRound } from './measure.js';
import { servers } from './servers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const json = { 'content-type': 'application/json', tenant: 'demo' };
const request = {
  method: 'PUT',
  path: '/api/authentication/till-login',
  headers: { ...json, authorization: `Basic ${Buffer.from('till-001:till-001-pass').toString('base64')}` },
  body: '{}',
};

const edit = (file, change) => {
  const value = JSON.parse(readFileSync(file, 'utf8'));
  change(value);
  writeFileSync(file, JSON.stringify(value));
};
const pipe = (dir, change) => edit(join(dir, 'pipes', 'till-login.json'), change);
const main = (dir, change) => edit(join(dir, 'config', 'authpipe.json'), change);
const without = (name) => (p) => {
  p.valves = p.valves.filter((v) => v.name !== name);
};
const noAudit = (dir) => main(dir, (c) => (c.audit = { ...(c.audit ?? {}), enabled: false }));
const noInfoLogs = (dir) => main(dir, (c) => (c.log = { ...(c.log ?? {}), level: 'warn' }));
const noMetrics = (dir) => main(dir, (c) => (c.metrics = { ...(c.metrics ?? {}), enabled: false }));
const noFailureLimit = (dir) => pipe(dir, without('rate-limit'));

/** Each variant: what it leaves out, and how its copy of the config is changed. */
const variants = [
  { name: 'full pipe (as shipped)', change: () => {} },
  { name: 'without rate-limit (failures per address)', change: noFailureLimit },
  {
    name: 'without access-group',
    change: (dir) =>
      pipe(dir, (p) => {
        without('access-group')(p);
        p.valves.find((v) => v.name === 'token-mint').config.claims = { kind: '{{item.kind}}', store: '{{item.store}}' };
        p.response = ['sub', 'access_token', 'token_type', 'expires_in'];
      }),
  },
  {
    name: 'without token-mint',
    change: (dir) =>
      pipe(dir, (p) => {
        without('token-mint')(p);
        p.response = ['sub', 'access_group', 'scope'];
      }),
  },
  {
    name: 'basic-auth alone',
    change: (dir) =>
      pipe(dir, (p) => {
        p.valves = p.valves.filter((v) => v.name === 'basic-auth');
        p.response = ['sub'];
      }),
  },
  { name: 'without audit of successes', change: (dir) => main(dir, (c) => (c.audit = { ...(c.audit ?? {}), success: false })) },
  { name: 'without any audit (audit.enabled false)', change: noAudit },
  { name: 'without info logs (level warn)', change: noInfoLogs },
  { name: 'without metrics', change: noMetrics },
  {
    name: 'without all four: audit, info logs, metrics, rate-limit',
    change: (dir) => [noAudit, noInfoLogs, noMetrics, noFailureLimit].forEach((change) => change(dir)),
  },
];

const only = process.env.BENCH_ONLY?.split('|');
const chosen = only ? variants.filter((v, i) => i === 0 || only.some((part) => v.name.includes(part))) : variants;

// Copies of config/ hold its secrets and the generated signing keys: removed however the run
// ends (servers.js exits the process on a signal, past the finally below).
const copies = [];
process.on('exit', () => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});
const running = [];
try {
  for (const variant of chosen) {
    const dir = mkdtempSync(join(tmpdir(), 'authpipe-breakdown-'));
    copies.push(dir);
    for (const part of ['config', 'pipes', 'var']) {
      try {
        cpSync(join(root, part), join(dir, part), { recursive: true });
      } catch {
        /* var/ is made at first start when absent */
      }
    }
    variant.change(dir);
    running.push({
      ...variant,
      server: await servers.authpipe.start(root, {}, join(dir, 'config', 'authpipe.json')),
      cpu: [],
      loop: [],
      rps: [],
      p99: [],
    });
  }
  running.push({
    name: 'bare node:http till-login (floor)',
    server: await servers['bare-login'].start(root),
    cpu: [],
    loop: [],
    rps: [],
    p99: [],
  });
  for (const side of running) await load(side.server.url, request, 1);
  for (let round = 0; round < rounds; round += 1) {
    for (const side of round % 2 === 0 ? running : [...running].reverse()) {
      const figures = await measureRound(side.server, request, seconds);
      // A variant whose edit broke till-login would answer fast refusals and look cheap.
      if (figures.non2xx > 0 || figures.errors > 0)
        throw new Error(`${side.name}: ${figures.non2xx} answers were not 200, ${figures.errors} errors`);
      side.cpu.push(figures.cpuUsPerReq);
      side.loop.push(figures.loopUsPerReq);
      side.rps.push(figures.rps);
      side.p99.push(figures.p99);
    }
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const full = median(running[0].cpu);
  const fullLoop = median(running[0].loop);
  const delta = (value, base) => `${value - base > 0 ? '+' : ''}${value - base}`;
  const floor = running.at(-1);
  // Each round measured every side once: the ratio of a round's pair, then their median.
  const toFloor = (side) => median(side.rps.map((rps, i) => rps / floor.rps[i])).toFixed(2);
  console.log(`\ntill-login CPU per request, medians of ${rounds} alternating rounds of ${seconds}s\n`);
  console.log(
    '| variant | CPU µs/req | vs full pipe | event-loop µs/req | vs full pipe | req/s | req/s ratio to the floor | p99 ms | CPU µs/req by round | event-loop µs/req by round |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const side of running) {
    const cpu = median(side.cpu);
    const loop = median(side.loop);
    const first = side === running[0];
    console.log(
      `| ${side.name} | ${cpu} | ${first ? '' : delta(cpu, full)} | ${loop} | ${first ? '' : delta(loop, fullLoop)} | ${median(side.rps)} | ${toFloor(side)} | ${median(side.p99)} | ${side.cpu.join(' ')} | ${side.loop.join(' ')} |`,
    );
  }
} finally {
  await Promise.all(running.map((side) => side.server.stop()));
}
