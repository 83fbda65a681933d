import type { Logger } from 'pino';
import type { RunObserver } from '../engine/runner.js';

/** Per-valve log lines at debug level. Only attached when debug is on: the hot path pays nothing. */
export function stepLogObserver(logger: Logger): RunObserver {
  return {
    stepEnd(pipe, step, ctx, outcome, ms, detail) {
      logger.debug(
        {
          requestId: ctx.requestId,
          tenant: ctx.tenant.id,
          operation: ctx.operation,
          pipe: pipe.id,
          valve: step.valve,
          step: step.label,
          outcome,
          reason: detail.reason,
          code: detail.error?.code,
          ms: Math.round(ms * 1000) / 1000,
        },
        'valve',
      );
    },
  };
}
