import { randomUUID } from 'node:crypto';
import { AuthpipeError, failureBody, refuse, toAuthpipeError } from '../errors.js';
import type { Listener, LoadedConfig, Tenant } from '../config/load.js';
import { OPERATION_PATTERN } from '../config-kit/patterns.js';
import { RESERVED_REQUEST_NAMES } from '../engine/context.js';
import { execute } from '../engine/execute.js';
import type { ReportCall } from '../http/call-report.js';
import type { CallContext } from '../engine/valve.js';
import { parseFlatJson } from '../http/flat-json.js';
import { TraceRecorder, type Trace } from '../observe/trace.js';

/**
 * Runs one call in-process, without HTTP, with the same checks the HTTP route makes after
 * the transport (tenant, allowedOperation, the strict flat-JSON body and its limits), on the
 * configured store. A dry run has the side effects of a real call (counters, OTP sends):
 * it is the real pipe, only the caller is the command line.
 */
export interface DryRunInput {
  operation: string;
  tenant: string;
  /** The request body, as it would be sent. */
  data: string;
  headers?: Readonly<Record<string, readonly string[]>>;
  clientIp?: string;
  trace?: boolean;
  /** Tells the call as the dry-run door (metrics, audit), when run by the server. */
  report?: ReportCall;
}

export interface DryRunResult {
  status: 200 | 403 | 500 | 503;
  body: Record<string, unknown>;
  headers: Readonly<Record<string, string>>;
  /** The refusal or fault, with its internal detail (a dry run is the admin's own). */
  error?: AuthpipeError;
  trace?: Trace;
}

const OPERATION = new RegExp(OPERATION_PATTERN);

export async function dryRun(config: LoadedConfig, input: DryRunInput): Promise<DryRunResult> {
  const requestId = `dry-run-${randomUUID()}`;
  const started = performance.now();
  const recorder = input.trace ? new TraceRecorder(undefined, (text) => config.secrets.redact(text)) : undefined;
  let ctx: CallContext | undefined;
  try {
    const { listener, tenant } = tenantOf(config, input.tenant);
    const pipe = tenant.pipes.get(input.operation);
    if (!OPERATION.test(input.operation) || !tenant.allowedOperations.has(input.operation) || !pipe) {
      throw refuse('OPERATION_NOT_ALLOWED', { detail: `operation ${input.operation}` });
    }
    if (Buffer.byteLength(input.data) > listener.http.max_body_bytes) {
      throw refuse('PAYLOAD_TOO_LARGE', { detail: `body over ${listener.http.max_body_bytes} bytes` });
    }
    const parsed = parseFlatJson(input.data, {
      maxProperties: listener.http.max_properties,
      maxValueLength: listener.http.max_value_length,
      reserved: RESERVED_REQUEST_NAMES,
    });
    if (!parsed.ok) {
      throw refuse('INVALID_REQUEST', {
        erroneousProperties: parsed.property === undefined ? [] : [parsed.property],
        detail: `body: ${parsed.problem}`,
      });
    }
    const outcome = await execute(
      pipe,
      {
        requestId,
        tenant: { id: tenant.id, displayName: tenant.displayName },
        operation: input.operation,
        body: parsed.props,
        clientIp: input.clientIp ?? '127.0.0.1',
        headers: { ...input.headers, tenant: [tenant.id], 'content-type': ['application/json'] },
        ...(recorder ? { observer: recorder } : {}),
      },
      config.services,
      config.services.logger,
    );
    ctx = outcome.ctx;
    if (!outcome.ok) throw outcome.error;
    const result: DryRunResult = { status: 200, body: outcome.answer, headers: ctx.responseHeaders };
    if (recorder) result.trace = recorder.finish(ctx, 200);
    input.report?.({ door: 'dry-run', requestId, tenant: tenant.id, operation: input.operation, pipe: pipe.id, started, ctx });
    return result;
  } catch (thrown) {
    const error = toAuthpipeError(thrown);
    const result: DryRunResult = { status: error.status, body: { ...failureBody(error, requestId) }, headers: error.headers, error };
    if (recorder) result.trace = recorder.finish(ctx, error.status, error);
    input.report?.({ door: 'dry-run', requestId, tenant: input.tenant, operation: input.operation, pipe: undefined, started, error, ctx });
    return result;
  }
}

function tenantOf(config: LoadedConfig, id: string): { listener: Listener; tenant: Tenant } {
  for (const listener of config.listeners) {
    const tenant = listener.tenants.get(id);
    if (tenant) return { listener, tenant };
  }
  throw refuse('UNKNOWN_TENANT', { detail: 'no such tenant' });
}
