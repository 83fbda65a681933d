// Where a till-login's CPU goes: the server's CPU µs per request on the demo config, then on
// copies of it with one piece taken away at a time. The difference to the full pipe is what
// that piece costs a call. All variants run side by side and alternate, round by round, so a
// slow patch of the machine hits each alike; medians are reported. The bare node:http
// till-login (bench/bare-login-server.js, same crypto and the same answer) is the floor.
//
//   npm run build && node bench/breakdown.js
//
// Env: BENCH_ROUNDS (default 5), BENCH_SECONDS per round (default 4), BENCH_CONNECTIONS (32),
// BENCH_ONLY (only the variants whose name contains it, beside the full pipe and the floor: ten
// servers at once crowd two cores, and fewer give steadier differences).
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

/** Each variant: what it leaves out, and how its copy of the config is changed. */
const variants = [
  { name: 'full pipe (as shipped)', change: () => {} },
  { name: 'without rate-limit (failures per address)', change: (dir) => pipe(dir, without('rate-limit')) },
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
  {
    name: 'without any audit (audit.enabled false)',
    change: (dir) => main(dir, (c) => (c.audit = { ...(c.audit ?? {}), enabled: false })),
  },
  { name: 'without info logs (level warn)', change: (dir) => main(dir, (c) => (c.log = { ...(c.log ?? {}), level: 'warn' })) },
  { name: 'without metrics', change: (dir) => main(dir, (c) => (c.metrics = { ...(c.metrics ?? {}), enabled: false })) },
];

const only = process.env.BENCH_ONLY;
const chosen = only ? variants.filter((v, i) => i === 0 || v.name.includes(only)) : variants;

const copies = [];
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
    });
  }
  running.push({ name: 'bare node:http till-login (floor)', server: await servers['bare-login'].start(root), cpu: [], loop: [], rps: [] });
  for (const side of running) await load(side.server.url, request, 1);
  for (let round = 0; round < rounds; round += 1) {
    for (const side of round % 2 === 0 ? running : [...running].reverse()) {
      const figures = await measureRound(side.server, request, seconds);
      if (figures.non2xx > 0) throw new Error(`${side.name}: ${figures.non2xx} answers were not 200`);
      side.cpu.push(figures.cpuUsPerReq);
      side.loop.push(figures.loopUsPerReq);
      side.rps.push(figures.rps);
    }
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const full = median(running[0].cpu);
  const fullLoop = median(running[0].loop);
  const delta = (value, base) => `${value - base > 0 ? '+' : ''}${value - base}`;
  console.log(`\ntill-login CPU per request, medians of ${rounds} alternating rounds of ${seconds}s\n`);
  console.log(
    '| variant | CPU µs/req | vs full pipe | event-loop µs/req | vs full pipe | req/s | CPU µs/req by round | event-loop µs/req by round |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const side of running) {
    const cpu = median(side.cpu);
    const loop = median(side.loop);
    const first = side === running[0];
    console.log(
      `| ${side.name} | ${cpu} | ${first ? '' : delta(cpu, full)} | ${loop} | ${first ? '' : delta(loop, fullLoop)} | ${median(side.rps)} | ${side.cpu.join(' ')} | ${side.loop.join(' ')} |`,
    );
  }
} finally {
  await Promise.all(running.map((side) => side.server.stop()));
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
}
