import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { fault, failureBody, refuse, toAuthpipeError, type AuthpipeError } from '../errors.js';
import type { ConfigHolder } from '../config/holder.js';
import type { Listener, Tenant } from '../config/load.js';
import { RESERVED_REQUEST_NAMES } from '../engine/context.js';
import { executeThen, type CallEvent, type Outcome } from '../engine/execute.js';
import { callReporter } from './call-report.js';
import type { CompiledPipe } from '../engine/pipe.js';
import type { RunObserver } from '../engine/runner.js';
import type { CallContext } from '../engine/valve.js';
import type { CallTrace, TraceRequest } from '../observe/trace-switch.js';
import { clientIp, trustedProxies, type TrustedProxies } from './client-ip.js';
import { parseFlatJson, type FlatJsonLimits } from './flat-json.js';
import { readBody } from './read-body.js';
import { answerFlat, answerJson } from './respond.js';
import { stepLogObserver } from './step-log.js';
import { combineObservers } from '../engine/observers.js';
import { headerValues, RawHeaders } from '../engine/headers.js';

/**
 * PUT /api/authentication/<operation>: the HTTP contract (docs/contract.md). Checks run in a
 * fixed order (method, tenant, operation, content type, body) so that nothing about an
 * operation is revealed to a caller without a valid tenant. Every refusal is a coded 403;
 * only a fault is a 500, and its detail goes to the log, never to the caller.
 */

const MAX_DRAIN_BYTES = 64 * 1024;
const OPERATION_PATH = /^\/([A-Za-z0-9][A-Za-z0-9_-]{0,99})\/?$/;
const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

interface ListenerRuntime {
  readonly proxies: TrustedProxies;
  readonly limits: FlatJsonLimits;
}

const runtimes = new WeakMap<Listener, ListenerRuntime>();

function runtimeOf(listener: Listener): ListenerRuntime {
  let runtime = runtimes.get(listener);
  if (!runtime) {
    runtime = {
      proxies: trustedProxies(listener.http.trusted_proxies),
      limits: {
        maxProperties: listener.http.max_properties,
        maxValueLength: listener.http.max_value_length,
        reserved: RESERVED_REQUEST_NAMES,
      },
    };
    runtimes.set(listener, runtime);
  }
  return runtime;
}

export interface CallObservers {
  /** Called once per answered call, for the call log and metrics. */
  callEnd?(event: CallEvent): void;
  /** Per-step observer (debug logs, traces); absent on the plain hot path. */
  steps?: RunObserver;
  /** Asked once per call that reaches its pipe: a debug trace of this call, or undefined. */
  trace?(call: TraceRequest): CallTrace | undefined;
}

export function authenticationHandler(holder: ConfigHolder, listenerId: string, logger: Logger, observers: CallObservers = {}) {
  const withDebug = combineObservers(observers.steps, stepLogObserver(logger));
  const report = callReporter(logger, observers.callEnd);
  /**
   * `path` is what follows /api/authentication in the request target, e.g. `/echo`. Not an
   * async function: the body and the pipe are waited for with callbacks, and a pipe that
   * finished at once answers in the body's turn (an async handler, its awaits and its caller's
   * catch were four of the ten promises of a cached till-login). Nothing thrown escapes: a
   * throw that is not a coded error ends the call as a fault, like any other.
   */
  return (req: IncomingMessage, res: ServerResponse, requestId: string, path: string): void => {
    const started = performance.now();
    const config = holder.current;
    const lines = req.rawHeaders;
    let tenant: Tenant | undefined;
    let operation: string | undefined;
    let pipe: CompiledPipe | undefined;
    let ctx: CallContext | undefined;
    let trace: CallTrace | undefined;

    /** Answers a refusal or a fault (none after a 200), then writes the call's one report. */
    const end = (error: AuthpipeError | undefined, step: string | undefined): void => {
      try {
        if (error !== undefined && !res.headersSent) {
          // A refused call's unread body is drained so the connection stays usable; one that is
          // over the limit (or of unknown size) is not worth reading: that connection is closed.
          const unread = !req.complete;
          if (unread && !(Number(req.headers['content-length']) <= MAX_DRAIN_BYTES)) res.setHeader('connection', 'close');
          trace?.end(res, ctx, error.status, error);
          answerJson(res, error.status, requestId, failureBody(error, requestId), error.headers);
          if (unread) req.resume();
        }
        // Exactly one call line per call, faults included (the fault line carries the stack).
        report({ door: 'put', requestId, tenant: tenant?.id, operation, pipe: pipe?.id, started, error, step, ctx });
      } catch (err) {
        logger.error({ requestId, err }, 'unhandled error in the authentication handler');
        if (!res.headersSent) answerJson(res, 500, requestId, { status: 'Failure', errorTranslationKeys: ['INTERNAL_ERROR'], requestId });
      }
    };
    const settle = (outcome: Outcome): void => {
      ctx = outcome.ctx;
      if (!outcome.ok) return end(outcome.error, outcome.step);
      try {
        trace?.end(res, ctx, 200);
        answerFlat(res, requestId, outcome.answer, ctx.responseHeaders);
      } catch (thrown) {
        return end(toAuthpipeError(thrown), undefined);
      }
      end(undefined, undefined);
    };
    const failed = (thrown: unknown): void => end(toAuthpipeError(thrown), undefined);
    const run = (runtime: ListenerRuntime, called: Tenant, compiled: CompiledPipe, op: string, text: string): void => {
      const parsed = parseFlatJson(text, runtime.limits);
      if (!parsed.ok) {
        throw refuse('INVALID_REQUEST', {
          erroneousProperties: parsed.property === undefined ? [] : [parsed.property],
          detail: `body: ${parsed.problem}`,
        });
      }
      const ip = clientIp(req, runtime.proxies);
      trace = observers.trace?.({ config, header: (name) => headerValues(lines, name), clientIp: ip });
      const observer = trace?.observer ?? (logger.isLevelEnabled('debug') ? withDebug : observers.steps);
      executeThen(
        compiled,
        {
          requestId,
          tenant: { id: called.id, displayName: called.displayName },
          operation: op,
          body: parsed.props,
          clientIp: ip,
          headers: new RawHeaders(lines),
          observer,
        },
        config.services,
        logger,
        // A pipe that finished at once answers in this turn.
        settle,
        failed,
      );
    };
    try {
      const listener = config.listeners.find((l) => l.http.id === listenerId);
      if (!listener) throw fault('INTERNAL_ERROR', { detail: `listener ${listenerId} is not in the active config` });
      const runtime = runtimeOf(listener);
      // The contract has no query parameters: one sent means the caller expects something we do not do.
      if (path.includes('?')) throw refuse('INVALID_REQUEST', { detail: 'the authentication API takes no query string' });
      if (req.method !== 'PUT') throw refuse('METHOD_NOT_ALLOWED', { detail: `method ${req.method}` });
      const called = (tenant = tenantOf(lines, listener));
      const chosen = operationOf(path, called);
      ({ operation, pipe } = chosen);
      checkContentType(lines);
      readBody(req, listener.http.max_body_bytes, (refused, text) => {
        if (refused !== undefined) return end(refused, undefined);
        try {
          run(runtime, called, chosen.pipe, chosen.operation, text);
        } catch (thrown) {
          failed(thrown);
        }
      });
    } catch (thrown) {
      failed(thrown);
    }
  };
}

function tenantOf(lines: readonly string[], listener: Listener): Tenant {
  const values = headerValues(lines, 'tenant');
  if (!values || values.length !== 1) {
    throw refuse('UNKNOWN_TENANT', { detail: values ? 'tenant header doubled' : 'no tenant header' });
  }
  const tenant = listener.tenants.get(values[0] as string);
  if (!tenant) throw refuse('UNKNOWN_TENANT', { detail: 'no such tenant' });
  return tenant;
}

function operationOf(url: string, tenant: Tenant): { operation: string; pipe: CompiledPipe } {
  const match = OPERATION_PATH.exec(url);
  const operation = match?.[1];
  if (operation === undefined) throw refuse('OPERATION_NOT_ALLOWED', { detail: 'malformed operation path' });
  const pipe = tenant.pipes.get(operation);
  if (!tenant.allowedOperations.has(operation) || !pipe) throw refuse('OPERATION_NOT_ALLOWED', { detail: `operation ${operation}` });
  return { operation, pipe };
}

function checkContentType(lines: readonly string[]): void {
  const values = headerValues(lines, 'content-type');
  if (!values || values.length !== 1 || !JSON_TYPE.test(values[0] as string)) {
    throw refuse('UNSUPPORTED_MEDIA_TYPE', { detail: `content-type ${values ? values.join(', ') : 'missing'}` });
  }
}
