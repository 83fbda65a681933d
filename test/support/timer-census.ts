/**
 * Counts the timers and intervals this process holds, unref'd ones included (which
 * process.getActiveResourcesInfo() leaves out): the global setTimeout/setInterval are wrapped
 * while the census runs, and every one not yet fired or cleared is counted.
 *
 *   const census = timerCensus();
 *   … const before = census.intervals(); …
 *   census.restore();
 */
export interface TimerCensus {
  intervals(): number;
  timeouts(): number;
  restore(): void;
}

export function timerCensus(): TimerCensus {
  const live = new Map<unknown, 'interval' | 'timeout'>();
  const real = {
    setInterval: globalThis.setInterval,
    clearInterval: globalThis.clearInterval,
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
  };
  const forget = (handle: unknown) => {
    if (handle !== undefined && handle !== null) live.delete(handle);
  };
  globalThis.setInterval = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = real.setInterval(fn, ms, ...args);
    live.set(handle, 'interval');
    return handle;
  }) as typeof setInterval;
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = real.setTimeout(
      (...a: unknown[]) => {
        live.delete(handle);
        fn(...a);
      },
      ms,
      ...args,
    );
    live.set(handle, 'timeout');
    return handle;
  }) as typeof setTimeout;
  globalThis.clearInterval = ((handle?: NodeJS.Timeout) => {
    forget(handle);
    real.clearInterval(handle);
  }) as typeof clearInterval;
  globalThis.clearTimeout = ((handle?: NodeJS.Timeout) => {
    forget(handle);
    real.clearTimeout(handle);
  }) as typeof clearTimeout;
  const count = (kind: 'interval' | 'timeout') => [...live.values()].filter((k) => k === kind).length;
  return {
    intervals: () => count('interval'),
    timeouts: () => count('timeout'),
    restore() {
      Object.assign(globalThis, real);
    },
  };
}
