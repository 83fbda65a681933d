/**
 * libuv's thread pool, shared by the slow work (password hashes: about 100 ms each) and the
 * fast work (token signatures: about 50 µs). Both run there so the event loop stays free,
 * but the pool is first come, first served: with every thread busy hashing (a burst of
 * wrong passwords, a credential-stuffing run), a signature queued behind them would wait
 * hundreds of milliseconds and a till with cached credentials would stall for nothing.
 * So slow jobs are counted here, and a fast job that finds no free thread runs in line on
 * the event loop instead (see tokens/service.ts).
 */

/** libuv reads UV_THREADPOOL_SIZE when it starts the pool; 4 when unset. */
export const POOL_THREADS = poolThreads(process.env.UV_THREADPOOL_SIZE);

let slowInFlight = 0;

export function poolThreads(setting: string | undefined): number {
  const n = Number(setting);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 1024) : 4;
}

/** Runs a job that occupies a pool thread for long (a password hash), counted while it runs. */
export async function slowPoolJob<T>(job: () => Promise<T>): Promise<T> {
  slowInFlight += 1;
  try {
    return await job();
  } finally {
    slowInFlight -= 1;
  }
}

/** Whether a short job sent to the pool now would find a thread not taken by a slow one. */
export function poolHasRoom(): boolean {
  return slowInFlight < POOL_THREADS;
}
