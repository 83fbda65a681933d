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
