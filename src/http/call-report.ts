/**
 * The one account of an answered call, for every door (PUT, hosted login, token endpoint,
 * dry run): a `fault` line with the stack when the server failed, exactly one `call` line,
 * and the CallEvent that metrics and the audit log count. Doors differ in how they answer,
 * never in how a call is told.
 */
import type { Logger } from 'pino';
import type { AuthpipeError } from '../errors.js';
import { authenticatedOf, subjectOf } from '../engine/audit.js';
import type { CallEvent, Door } from '../engine/execute.js';
import type { CallContext } from '../engine/valve.js';
import { fixedInfoLine } from '../observe/fixed-line.js';

interface CallReport {
  readonly door: Door;
  readonly requestId: string;
  readonly tenant: string | undefined;
  readonly operation: string | undefined;
  readonly pipe: string | undefined;
  /** performance.now() when the call began. */
  readonly started: number;
  /** The refusal or fault that ended the call; none for a 200. */
  readonly error?: AuthpipeError | undefined;
  /** The step that raised it. */
  readonly step?: string | undefined;
  readonly ctx: CallContext | undefined;
  /** Whom a call without a pipe was about (a token grant's client); authenticated when it succeeded. */
  readonly subject?: string | undefined;
}

export type ReportCall = (report: CallReport) => void;

export function callReporter(logger: Logger, callEnd: ((event: CallEvent) => void) | undefined): ReportCall {
  // The call line has a fixed shape built below (ids, names, codes, timings: no secret), so
  // it skips pino's path redaction (~13 µs a line measured, about a tenth of an echo call)
  // and the rest of pino's per-line work (observe/fixed-line.ts).
  const callLine = fixedInfoLine(logger, 'call');
  return (report) => {
    const { door, requestId, tenant, operation, pipe, error, step } = report;
    const ms = performance.now() - report.started;
    if (error === undefined) {
      callLine({ requestId, door, tenant, operation, pipe, outcome: 'success', ms: rounded(ms) });
    } else {
      if (error.status === 500)
        logger.error({ requestId, door, tenant, operation, pipe, valve: step, code: error.code, err: error.cause ?? error }, 'fault');
      callLine({
        requestId,
        door,
        tenant,
        operation,
        pipe,
        valve: step,
        outcome: error.isRefusal ? 'refused' : 'fault',
        code: error.code,
        detail: error.isRefusal ? error.detail : undefined,
        ms: rounded(ms),
      });
    }
    if (callEnd === undefined) return;
    // Members assigned from locals, not spread into the literal: V8 takes a slow path for a
    // spread among literal members, and this runs once per call of every door.
    let subject: string | undefined;
    let authenticated: string | undefined;
    const ctx = report.ctx;
    if (ctx !== undefined) {
      subject = subjectOf(ctx);
      authenticated = authenticatedOf(ctx);
    } else if (report.subject !== undefined) {
      subject = report.subject;
      authenticated = error === undefined ? report.subject : undefined;
    }
    callEnd({ requestId, door, tenant, operation, status: error?.status ?? 200, code: error?.code, ms, subject, authenticated });
  };
}

function rounded(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
