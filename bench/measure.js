// What the bench reads off a server under load: autocannon figures, and the server process's
// CPU time and RSS from /proc.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export function rssMiB(pid) {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Math.round(kb / 1024);
  } catch {
    return NaN;
  }
}

// utime + stime of a process, in clock ticks (USER_HZ, 100 on Linux).
export function cpuTicks(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return NaN;
  }
}

export async function load(url, request, duration, connections = Number(process.env.BENCH_CONNECTIONS ?? 32)) {
  const result = await autocannon({ url: url + request.path, method: request.method, headers: request.headers, body: request.body, connections, duration, requests: request.requests });
  return {
    total: result.requests.total,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/**
 * One measured round against a running server: autocannon's figures plus the server's CPU %
 * and CPU µs per request over the round (the steadier figure on a small machine where the
 * load generator competes for the same cores; CPU % shows whether the server was the limit).
 */
export async function measureRound(server, request, seconds, connections) {
  const ticksBefore = cpuTicks(server.pid);
  const started = performance.now();
  const { total, ...figures } = await load(server.url, request, seconds, connections);
  const cpuSeconds = (cpuTicks(server.pid) - ticksBefore) / 100;
  const wall = (performance.now() - started) / 1000;
  return { ...figures, cpuPct: Math.round((cpuSeconds / wall) * 100), cpuUsPerReq: Math.round((cpuSeconds * 1e6) / total), rssMiB: rssMiB(server.pid) };
}
