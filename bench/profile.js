// Where a till-login's (or another authpipe scenario's) event-loop time goes, by area: the demo
// server under `node --cpu-prof`, loaded with 32 connections of that call, then the profile's self time per request bucketed
// by the file it ran in (the engine, each valve, the http door, logs and audit, metrics, the
// store, node's http layer, GC...). The profiler inflates every figure, so compare the rows
// with each other, or with the same run of another build, not with `npm run bench`.
//
//   npm run build && node bench/profile.js [seconds] [scenario]   (e.g. 10 "authpipe echo")
//
// The profile itself is left in a temporary folder, named in the last line (open it in
// Chrome's DevTools, Performance tab, to see the calls).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from './measure.js';
import { scenarios } from './scenarios.js';
import { waitReady } from './servers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 10);
// The scenario: till-login, or the first authpipe scenario whose name contains the second argument.
const scenario = scenarios.find((s) => s.server === 'authpipe' && s.request && s.name.includes(process.argv[3] ?? 'till-login ('));
if (!scenario) throw new Error(`no authpipe scenario matches "${process.argv[3]}"`);
const request = scenario.request;
const dir = mkdtempSync(join(tmpdir(), 'authpipe-profile-'));
const port = 18000 + Math.floor(Math.random() * 2000);
const child = spawn(
  process.execPath,
  ['--cpu-prof', '--cpu-prof-dir', dir, join(root, 'dist', 'cli.js'), 'serve', '--config', join(root, 'config', 'authpipe.json')],
  {
    cwd: root,
    env: { ...process.env, PORT: String(port), MANAGEMENT_PORT: String(port + 1), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
child.stdout.resume(); // the info lines, drained as in production
const url = `http://127.0.0.1:${port}`;
await waitReady(`${url}/healthz`, 100, 300);
await load(url, request, 2); // warm-up: JIT and caches; not in the window below
const measured = await load(url, request, seconds);
const ended = new Promise((resolve) => child.once('exit', resolve));
child.kill('SIGINT');
await ended;

// The main thread's profile (worker threads write their own files).
const file = readdirSync(dir)
  .filter((name) => name.endsWith('.cpuprofile'))
  .sort()[0];
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
const AREAS = [
  [
    /node_modules\/pino|dist\/(observe\/(log-destination|fd-writer|audit-log|fixed-line|pretty-lines)|admin\/audit-feed|http\/call-report)/,
    'logs, audit lines, Audit page copy',
  ],
  [/node_modules\/prom-client|dist\/(observe\/(prometheus|hot-metrics)|app\/call-observers)/, 'metrics and call observers'],
  [/dist\/(store\/|observe\/store-errors)/, 'store'],
  [/dist\/(tokens\/|valves\/token-mint)/, 'token-mint (claims, JWT assembly)'],
  [/dist\/(credentials\/|valves\/basic-auth|directory\/)/, 'basic-auth (parse, cache, lock)'],
  [/dist\/valves\/rate-limit/, 'rate-limit'],
  [/dist\/(valves\/access-group|access-groups\/)/, 'access-group'],
  [/dist\/engine\//, 'engine (context, runner, templates)'],
  [/dist\/http\//, 'http door (checks, body, answer, timeouts)'],
  [/\/dist\//, 'other authpipe code'],
  [/^node:internal\/crypto\/sig/, 'signature dispatch (node)'],
  [
    /^node:(_http|internal\/streams|internal\/stream_base|net|events|internal\/http|internal\/timers|timers)/,
    'node http, streams, events, timers',
  ],
];
const SPECIAL = new Map([
  ['(garbage collector)', 'GC'],
  ['(idle)', 'idle'],
  ['writev', 'socket and log writes (system calls)'],
  ['writeString', 'socket and log writes (system calls)'],
]);
const areaOf = ({ url: file, functionName }) =>
  AREAS.find(([pattern]) => pattern.test(file))?.[1] ??
  SPECIAL.get(functionName) ??
  (file.startsWith('node:') ? 'other node core' : 'native and other');
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
// Only the measured window: the profile's last `seconds`, less a margin for the shutdown.
const to = profile.endTime - 300_000;
const from = to - seconds * 1e6;
const byArea = new Map();
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (at < from || at > to) return;
  const area = areaOf(nodes.get(id).callFrame);
  byArea.set(area, (byArea.get(area) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
console.log(`${scenario.name} under --cpu-prof: ${measured.rps} req/s, self time per request by area (µs)\n`);
console.log('| area | µs/req |');
console.log('|---|---|');
let total = 0;
for (const [area, us] of [...byArea].sort((a, b) => b[1] - a[1])) {
  total += us;
  console.log(`| ${area} | ${(us / measured.total).toFixed(1)} |`);
}
console.log(`| total (busy and idle) | ${(total / measured.total).toFixed(1)} |`);
console.log(`\nprofile: ${join(dir, file)}`);
