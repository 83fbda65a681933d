/**
 * The one error catalogue. Every refusal and fault the engine or a valve raises carries a
 * code from here; tests assert codes, never prose. A code decides the HTTP status and
 * what the caller may see: a refusal (403) shows its code and erroneous properties,
 * a fault (500) shows only its code, never its message or stack.
 */

export const ERROR_CATALOGUE = {
  // The caller's request is malformed or outside the contract.
  INVALID_REQUEST: { status: 403, description: 'The request is not a flat JSON object of strings, or breaks the contract.' },
  METHOD_NOT_ALLOWED: { status: 403, description: 'Only PUT is accepted on the authentication API.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 403, description: 'Content-Type must be application/json (charset utf-8 allowed).' },
  PAYLOAD_TOO_LARGE: { status: 403, description: 'The body is over the configured limit.' },
  UNKNOWN_TENANT: { status: 403, description: 'The tenant header is missing, doubled or names no configured tenant.' },
  OPERATION_NOT_ALLOWED: { status: 403, description: 'The operation is not in the tenant\'s allowedOperation, or has no pipe.' },
  // Refusals that valves raise.
  INVALID_CREDENTIALS: { status: 403, description: 'The credentials were not accepted.' },
  ACCESS_DENIED: { status: 403, description: 'The subject may not do this.' },
  OTP_INVALID: { status: 403, description: 'The one-time code or its transaction was not accepted.' },
  RATE_LIMITED: { status: 403, description: 'Too many calls; retry later.' },
  TOKEN_INVALID: { status: 403, description: 'The token was not accepted.' },
  UNKNOWN_ERROR: { status: 403, description: 'An upstream adapter refused without saying why (seed 003).' },
  FLOW_FAILED: { status: 403, description: 'The pipe refused on purpose (flow-fail valve).' },
  FLOW_INVALID: { status: 403, description: 'The flow handle was not accepted: malformed, unknown, expired, already used, another tenant\'s, or not continuable by this operation.' },
  // Faults: the server or a dependency failed. Never the caller's fault.
  COMMUNICATION_ERROR: { status: 500, description: 'An upstream system or the store did not answer correctly.' },
  INTERNAL_ERROR: { status: 500, description: 'A bug or misconfiguration inside the server.' },
} as const satisfies Record<string, { status: 403 | 500; description: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Codes that pipe authors may raise themselves (flow-fail, adapters) without being a fault. */
export const REFUSAL_CODES = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).filter(
  (c) => ERROR_CATALOGUE[c].status === 403,
);

export function isErrorCode(value: string): value is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, value);
}

export interface AuthpipeErrorOptions {
  /** Request properties the caller should look at (seed 003 `erroneousProperties`). */
  erroneousProperties?: readonly string[];
  /** Extra translation keys after the code, e.g. the ones an upstream adapter sent back. */
  extraKeys?: readonly string[];
  /** Response headers that belong to this refusal (Retry-After). */
  headers?: Readonly<Record<string, string>>;
  /** Internal detail for logs only; never sent to the caller. */
  detail?: string;
  cause?: unknown;
}

/** A coded error. `status` follows from the code, so no call site can pick a wrong one. */
export class AuthpipeError extends Error {
  readonly code: ErrorCode;
  readonly status: 403 | 500;
  readonly erroneousProperties: readonly string[];
  readonly extraKeys: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, options: AuthpipeErrorOptions = {}) {
    super(options.detail ? `${code}: ${options.detail}` : code, { cause: options.cause });
    this.name = 'AuthpipeError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.erroneousProperties = options.erroneousProperties ?? [];
    this.extraKeys = options.extraKeys ?? [];
    this.headers = options.headers ?? {};
    this.detail = options.detail;
  }

  get isRefusal(): boolean {
    return this.status === 403;
  }
}

/** Shorthand for valves: `throw refuse('INVALID_CREDENTIALS', {...})`. */
export function refuse(code: ErrorCode, options?: AuthpipeErrorOptions): AuthpipeError {
  return new AuthpipeError(code, options);
}

/** Anything that is not an AuthpipeError is a fault: a bug or a dependency failure. */
export function toAuthpipeError(err: unknown): AuthpipeError {
  if (err instanceof AuthpipeError) return err;
  return new AuthpipeError('INTERNAL_ERROR', { cause: err, detail: err instanceof Error ? err.message : String(err) });
}

/** The failure body of seed 003, plus our request id. */
export interface FailureBody {
  status: 'Failure';
  errorTranslationKeys: string[];
  erroneousProperties?: string[];
  requestId: string;
}

export function failureBody(err: AuthpipeError, requestId: string): FailureBody {
  const body: FailureBody = { status: 'Failure', errorTranslationKeys: [err.code, ...err.extraKeys], requestId };
  if (err.isRefusal && err.erroneousProperties.length > 0) body.erroneousProperties = [...err.erroneousProperties];
  return body;
}
