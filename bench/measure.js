// What the bench reads off a server under load: autocannon figures, and the CPU time and RSS
// from /proc of the server's whole process tree (with `serve --workers N` the primary only
// forks and supervises; the requests are served by its workers).
import { readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';

// The fields of /proc/<pid>/stat after the command name, which may itself hold spaces or ')'.
function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
}

/** The pid and every live descendant of it (read from each process's parent pid in /proc). */
export function processTree(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ppid = Number(statFields(name)[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      /* exited while we looked */
    }
  }
  const tree = [];
  for (const queue = [pid]; queue.length > 0;) {
    const next = queue.shift();
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

function sumOverTree(pid, read) {
  let total = 0;
  for (const member of processTree(pid)) {
    try {
      total += read(member);
    } catch {
      /* exited while we looked: its CPU moved to its parent's children's time, read below */
    }
  }
  return total;
}

/** Resident memory of the server: the sum over its process tree (shared pages count once per process). */
export function rssMiB(pid) {
  try {
    const kb = sumOverTree(pid, (member) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${member}/status`, 'utf8'))?.[1] ?? 0));
    return Math.round(kb / 1024);
  } catch {
    return NaN;
  }
}

/**
 * CPU time of the server, in clock ticks (USER_HZ, 100 on Linux): utime + stime of every live
 * process of its tree, plus cutime + cstime (what their exited, reaped children used, so a
 * worker that died and was replaced during a round still counts).
 */
export function cpuTicks(pid) {
  try {
    statFields(pid);
  } catch {
    return NaN;
  }
  return sumOverTree(pid, (member) => {
    const fields = statFields(member);
    return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  });
}

/**
 * On-CPU time in ns of the main thread of every process of the tree: the event loops, where a
 * request's JavaScript runs (from /proc/<pid>/task/<pid>/schedstat, in ns, not clock ticks).
 * Worker threads (the signature's thread pool, GC helpers) are left out: with the load
 * generator on the same two cores, the event loop is what limits a server's req/s.
 */
export function loopNs(pid) {
  return sumOverTree(pid, (member) => Number(readFileSync(`/proc/${member}/task/${member}/schedstat`, 'utf8').split(' ')[0]));
}

export async function load(url, request, duration, connections = Number(process.env.BENCH_CONNECTIONS ?? 32)) {
  const run = autocannon({
    url: url + request.path,
    method: request.method,
    headers: request.headers,
    body: request.body,
    connections,
    duration,
    requests: request.requests,
  });
  // autocannon's percentiles are whole milliseconds (its histogram holds integers), so a p99
  // ratio of 6 ms to 4 could only move in quarters. Every answer's own time (fractional ms,
  // what autocannon's histogram is fed, non-2xx included as it includes them) gives the
  // percentiles to the microsecond.
  const times = [];
  run.on('response', (_client, _status, _bytes, ms) => times.push(ms));
  const result = await run;
  times.sort((a, b) => a - b);
  // Nearest rank: the smallest time that q of the answers do not exceed.
  const percentile = (q, fallback) =>
    times.length === 0 ? fallback : Math.round(times[Math.max(0, Math.ceil(q * times.length) - 1)] * 1000) / 1000;
  return {
    total: result.requests.total,
    rps: Math.round(result.requests.average),
    p50: percentile(0.5, result.latency.p50),
    p99: percentile(0.99, result.latency.p99),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/**
 * One measured round against a running server: autocannon's figures plus the server's CPU %
 * (of one core; above 100 when workers use several)
 * and CPU µs per request over the round (the steadier figure on a small machine where the
 * load generator competes for the same cores; CPU % shows whether the server was the limit),
 * and the event loop's share of it (loopUsPerReq: the main threads only, see loopNs).
 */
export async function measureRound(server, request, seconds, connections) {
  const ticksBefore = cpuTicks(server.pid);
  const loopBefore = loopNs(server.pid);
  const started = performance.now();
  const { total, ...figures } = await load(server.url, request, seconds, connections);
  const cpuSeconds = (cpuTicks(server.pid) - ticksBefore) / 100;
  const loopUs = (loopNs(server.pid) - loopBefore) / 1000;
  const wall = (performance.now() - started) / 1000;
  return {
    ...figures,
    cpuPct: Math.round((cpuSeconds / wall) * 100),
    cpuUsPerReq: Math.round((cpuSeconds * 1e6) / total),
    loopUsPerReq: Math.round(loopUs / total),
    rssMiB: rssMiB(server.pid),
  };
}

/**
 * One round of `scenario` on `server`: measureRound, with the scenario's load alongside (a
 * credential spray) running only while it is measured; its figures join the round's.
 */
export async function measureScenarioRound(scenario, server, request, seconds, connections) {
  const alongside = scenario.alongside?.(server);
  let figures;
  try {
    figures = await measureRound(server, request, seconds, connections);
  } finally {
    if (alongside) figures = { ...figures, ...(await alongside.stop()) };
  }
  return figures;
}
