import type { RunObserver } from './runner.js';

/** One observer that tells both (metrics and debug logs, say); undefined when neither is set. */
export function combineObservers(a: RunObserver | undefined, b: RunObserver | undefined): RunObserver | undefined {
  if (!a || !b) return a ?? b;
  return {
    stepStart(pipe, step, ctx) {
      a.stepStart?.(pipe, step, ctx);
      b.stepStart?.(pipe, step, ctx);
    },
    stepEnd(pipe, step, ctx, outcome, ms, detail) {
      a.stepEnd(pipe, step, ctx, outcome, ms, detail);
      b.stepEnd(pipe, step, ctx, outcome, ms, detail);
    },
  };
}
