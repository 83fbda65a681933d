/**
 * POST /admin/dry-run: runs an operation of the admin's own tenant in process with a trace,
 * as `authpipe run --trace` does: the same tenant, operation and body checks as the API,
 * the real pipe on the real store (so a dry run has real side effects: counters, sends).
 * The trace is masked as the CLI masks it, and secret-named members of the answer too: the
 * console shows it on screen.
 */
import { AdminError } from './admin-error.js';
import { dryRun } from '../cli/dry-run.js';
import type { ConfigHolder } from '../config/holder.js';
import type { ReportCall } from '../http/call-report.js';
import { isSecretName } from '../engine/props.js';
import { MASK } from '../observe/trace.js';
import { checkedBody } from './bodies.js';
import type { AdminRoute } from './routes.js';

const DRY_RUN = {
  type: 'object',
  additionalProperties: false,
  required: ['operation'],
  properties: {
    operation: { type: 'string', minLength: 1, maxLength: 100 },
    body: { anyOf: [{ type: 'object' }, { type: 'string', maxLength: 65536 }] },
    headers: { type: 'object', maxProperties: 50, additionalProperties: { type: 'string', maxLength: 8192 } },
  },
} as const;

/** The request body, for the OpenAPI document. */
export const DRY_RUN_BODY = DRY_RUN;

/** Headers a dry run may not set: the engine sets them, or they would change who is calling. */
const FIXED_HEADERS = new Set(['tenant', 'content-type', 'content-length', 'host', 'x-forwarded-for']);

export function tryItRoutes(holder: ConfigHolder, report: ReportCall): AdminRoute[] {
  return [
    {
      method: 'POST',
      path: '/admin/dry-run',
      async handle(call) {
        const input = checkedBody<{ operation: string; body?: object | string; headers?: Record<string, string> }>(
          DRY_RUN,
          await call.body(),
        );
        const headers: Record<string, string[]> = {};
        for (const [name, value] of Object.entries(input.headers ?? {})) {
          const lower = name.toLowerCase();
          if (FIXED_HEADERS.has(lower) || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(lower))
            throw new AdminError('BAD_BODY', `header "${name}" cannot be set in a dry run`, [`/headers/${name}`]);
          headers[lower] = [value];
        }
        const data = typeof input.body === 'string' ? input.body : JSON.stringify(input.body ?? {});
        const config = holder.current;
        const result = await dryRun(config, {
          operation: input.operation,
          tenant: call.subject.tenant,
          data,
          headers,
          trace: true,
          report,
        });
        // A value a `${…}` reference resolved to (an operator's secret file) shows as the reference.
        const redact = (text: string) => config.secrets.redact(text);
        const body: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(result.body))
          body[name] = typeof value === 'string' ? (isSecretName(name) ? MASK : redact(value)) : value;
        call.send(200, {
          status: result.status,
          body,
          headers: result.headers,
          ...(result.error
            ? { error: { code: result.error.code, detail: result.error.detail === undefined ? null : redact(result.error.detail) } }
            : {}),
          trace: result.trace,
        });
      },
    },
  ];
}
