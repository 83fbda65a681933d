import type { ChildProcess } from 'node:child_process';

/**
 * Servers a test file starts (redis-server, slapd, php, node) go when its jest worker goes,
 * however the tests ended: a worker whose jest was killed exits through `exit` once its
 * channel closes, and a server left behind would hold its port and CPU on a laptop.
 */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** `child`, killed with this process if it still runs then. */
export function endsWithTests<C extends ChildProcess>(child: C): C {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}
