/**
 * What the app observes of every authentication call: metrics, and the audit events
 * (auth.success, auth.failure, auth.fault). Built once at start; runs on the hot path.
 */
import type { Logger } from 'pino';
import type { Audit } from '../engine/audit.js';
import { combineObservers } from '../engine/observers.js';
import type { CallEvent } from '../engine/execute.js';
import type { CallObservers } from '../http/authentication.js';
import type { AppMetrics } from '../observe/prometheus.js';
import { traceSwitch } from '../observe/trace-switch.js';

export interface CallObserverOptions {
  metrics: AppMetrics | undefined;
  audit: Audit;
  /** Also audit successful calls (`audit.success`). */
  auditSuccess: boolean;
  /** The embedder's own observers (tests). */
  extra: CallObservers | undefined;
  logger: Logger;
}

/** The observers of public listeners, which never trace, and of the management listener, which honours the trace switch. */
export function callObservers(options: CallObserverOptions): { public: CallObservers; traced: CallObservers } {
  const { metrics, audit, auditSuccess, extra } = options;
  const callEnd = (event: CallEvent): void => {
    metrics?.callEnd(event);
    // A 200 is an authentication only when the pipe established a subject; echo-like calls
    // that verify nobody are not audited as successes (the call log has them).
    if (event.status === 200) {
      if (auditSuccess && event.authenticated !== undefined) {
        audit.event('auth.success', {
          subject: event.authenticated,
          tenant: event.tenant,
          operation: event.operation,
          door: event.door,
          requestId: event.requestId,
        });
      }
    } else {
      const type = event.status === 500 ? 'auth.fault' : 'auth.failure';
      audit.event(type, {
        subject: event.subject,
        tenant: event.tenant,
        operation: event.operation,
        code: event.code,
        door: event.door,
        requestId: event.requestId,
      });
    }
    extra?.callEnd?.(event);
  };
  const steps = combineObservers(metrics?.steps, extra?.steps);
  const observers: CallObservers = { callEnd, ...(steps ? { steps } : {}) };
  return { public: observers, traced: { ...observers, trace: extra?.trace ?? traceSwitch(options.logger, steps) } };
}
