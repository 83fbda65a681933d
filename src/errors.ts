/**
 * The one error catalogue. Every refusal and fault the engine, a valve or the admin API
 * raises carries a code from here, and so does every config issue; tests assert codes,
 * never prose, and test/docs/error-codes.test.ts checks that docs/contract.md lists each.
 * A refusal (403) shows its code and erroneous properties; a fault (500, 503) shows only
 * its code, never its message or stack.
 */

/** Refusals (403): the caller's request is refused; the body shows the code and erroneous properties. */
const REFUSALS = {
  // The caller's request is malformed or outside the contract.
  INVALID_REQUEST: {
    status: 403,
    description: 'The request is not a flat JSON object of strings, breaks the contract, or a property fails input-validate.',
  },
  METHOD_NOT_ALLOWED: { status: 403, description: 'Only PUT is accepted on the authentication API.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 403, description: 'Content-Type must be application/json (charset utf-8 allowed).' },
  PAYLOAD_TOO_LARGE: { status: 403, description: 'The body is over the configured limit.' },
  UNKNOWN_TENANT: { status: 403, description: 'The tenant header is missing, doubled or names no configured tenant.' },
  OPERATION_NOT_ALLOWED: { status: 403, description: "The operation is not in the tenant's allowedOperation, or has no pipe." },
  // Refusals that valves raise.
  INVALID_CREDENTIALS: { status: 403, description: 'The credentials were not accepted.' },
  ACCESS_DENIED: { status: 403, description: 'The subject may not do this.' },
  OTP_INVALID: { status: 403, description: 'The one-time code or its transaction was not accepted.' },
  PASSWORD_WEAK: {
    status: 403,
    description: 'A new password was refused: too short, too easy to guess (its zxcvbn-ts score), or on the blocked-password list.',
  },
  RATE_LIMITED: { status: 403, description: 'Too many calls; retry later.' },
  TOKEN_INVALID: { status: 403, description: 'The token was not accepted.' },
  DPOP_INVALID: {
    status: 403,
    description:
      'A DPoP-bound access token (cnf.jkt) came without a valid DPoP proof (RFC 9449): missing or doubled, sent as Bearer, not signed by the bound key, another method or URL, stale, replayed, or for another token.',
  },
  UNKNOWN_ERROR: { status: 403, description: 'An upstream adapter refused without saying why (a Failure answer with no translation key).' },
  FLOW_FAILED: {
    status: 403,
    description: 'The pipe refused on purpose (the refuse valve, formerly flow-fail). The code keeps its name: callers match on it.',
  },
  FLOW_INVALID: {
    status: 403,
    description:
      "The flow handle was not accepted: malformed, unknown, expired, already used, another tenant's, or not continuable by this operation.",
  },
  STEP_NOT_OFFERED: {
    status: 403,
    description: 'The hosted login was asked for a way to pass a step ("Try another way") that the step does not offer.',
  },
  UPSTREAM_REFUSED: {
    status: 403,
    description:
      'Hosted login: the upstream identity provider answered an error, or its answer (code, ID token: issuer, audience, signature, nonce, expiry, at_hash; SAML assertion: signature, issuer, audience, recipient, InResponseTo, validity, replay) was not accepted.',
  },
  LINK_REFUSED: {
    status: 403,
    description:
      'federated-account: the upstream account matches a local account by email, but the upstream does not say the email is verified or the pool does not link by email (and asks no proof); federated-link: the proven account is not the matched one, or the pending link is gone.',
  },
  // Passkeys (passkey-verify): the answer to a WebAuthn challenge was not accepted.
  PASSKEY_CHALLENGE_INVALID: {
    status: 403,
    description: "The passkey challenge is unknown, expired, already used, another user's, or not the one the answer signed.",
  },
  PASSKEY_ORIGIN_INVALID: { status: 403, description: 'The passkey answer comes from an origin the relying party does not expect.' },
  PASSKEY_RP_ID_INVALID: { status: 403, description: 'The passkey answer is for another relying party id.' },
  PASSKEY_REPLAYED: { status: 403, description: "The passkey's signature counter did not move on: a replayed or cloned answer." },
  PASSKEY_CREDENTIAL_UNKNOWN: {
    status: 403,
    description: "The passkey is not registered here (or already is, at registration), or is another account's.",
  },
  PASSKEY_INVALID: { status: 403, description: 'The passkey answer is malformed or its attestation or signature did not verify.' },
} as const satisfies Record<string, { status: 403; description: string }>;

/** Faults: the server or a dependency failed, never the caller. The body shows only the code. */
const FAULTS = {
  COMMUNICATION_ERROR: { status: 500, description: 'An upstream system or the store did not answer correctly, or not in time.' },
  INTERNAL_ERROR: { status: 500, description: 'A bug or misconfiguration inside the server.' },
  INTERACTIONS_FULL: {
    status: 503,
    description:
      'OpenID Connect: the tenant holds as many pending sign-ins as oidc.interactions.max_pending allows; a new one is refused (a page with this code) until some finish or expire.',
  },
  BUSY: {
    status: 503,
    description: 'The admin API could not take the config lock in time (another change holds it); retry after Retry-After.',
  },
} as const satisfies Record<string, { status: 500 | 503; description: string }>;

/**
 * The one error catalogue: every code the engine, a valve or the admin API puts first in
 * `errorTranslationKeys`. A code decides the HTTP status and what the caller may see.
 */
export const ERROR_CATALOGUE = { ...REFUSALS, ...FAULTS } as const;

export type RefusalCode = keyof typeof REFUSALS;
type FaultCode = keyof typeof FAULTS;
export type ErrorCode = RefusalCode | FaultCode;

/** Codes that pipe authors may raise themselves (flow-fail, input-validate, adapters) without being a fault. */
export const REFUSAL_CODES = Object.keys(REFUSALS) as RefusalCode[];

export function isErrorCode(value: string): value is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, value);
}

export function isRefusalCode(value: string): value is RefusalCode {
  return Object.prototype.hasOwnProperty.call(REFUSALS, value);
}

/**
 * The admin API's reasons: the second translation key of an admin answer, saying precisely
 * what went wrong; `code` is the catalogue code that goes first, `status` the HTTP status.
 */
export const ADMIN_REASONS = {
  TOKEN_MISSING: { status: 401, code: 'TOKEN_INVALID', description: 'No Authorization: Bearer access token.' },
  TOKEN_REJECTED: {
    status: 401,
    code: 'TOKEN_INVALID',
    description: 'The access token was not accepted (signature, expiry, audience, revoked).',
  },
  NOT_ADMIN: { status: 403, code: 'ACCESS_DENIED', description: "The token's access group does not grant this config resource." },
  BUILT_IN_READ_ONLY: { status: 403, code: 'ACCESS_DENIED', description: 'Built-in groups (POS, Instore, Admin) cannot be changed.' },
  OTHER_TENANT: { status: 403, code: 'ACCESS_DENIED', description: "The path names another tenant than the token's." },
  OPERATOR_ONLY: {
    status: 403,
    code: 'ACCESS_DENIED',
    description: "Only an operator may change this (a shared pipe, another tenant); a tenant admin changes its own tenant's.",
  },
  ADMIN_STORES_REFUSED: {
    status: 403,
    code: 'ACCESS_DENIED',
    description: 'Stores cannot be allocated to the built-in Admin group unless admin_api.allow_admin_stores is set.',
  },
  HOST_NOT_ALLOWED: {
    status: 403,
    code: 'ACCESS_DENIED',
    description: 'The management listener does not answer for this Host (missing, doubled or not in management.hosts).',
  },
  BAD_TENANT: { status: 400, code: 'INVALID_REQUEST', description: 'The tenant in the path is not configured, or not the token’s tenant.' },
  BAD_BODY: { status: 400, code: 'INVALID_REQUEST', description: 'The body is not JSON or does not match the resource’s schema.' },
  BAD_QUERY: { status: 400, code: 'INVALID_REQUEST', description: 'A query parameter is unknown or malformed.' },
  UNKNOWN_RESOURCE: { status: 400, code: 'INVALID_REQUEST', description: 'A permission names an API or resource that does not exist.' },
  UNKNOWN_STORE: { status: 400, code: 'INVALID_REQUEST', description: 'A store id is not in the directory of the tenant.' },
  UNKNOWN_GROUP: { status: 400, code: 'INVALID_REQUEST', description: 'A group id does not exist in the tenant.' },
  NOT_FOUND: { status: 404, code: 'INVALID_REQUEST', description: 'No such path or group.' },
  METHOD_NOT_ALLOWED: { status: 405, code: 'INVALID_REQUEST', description: 'The path does not take this method.' },
  NAME_TAKEN: { status: 409, code: 'INVALID_REQUEST', description: 'Another group of the tenant has this name (ignoring case).' },
  ID_TAKEN: { status: 409, code: 'INVALID_REQUEST', description: 'Another group of the tenant has this id (ignoring case).' },
  STORES_ALLOCATED: { status: 409, code: 'INVALID_REQUEST', description: 'The group still has stores allocated to it.' },
  DEFAULT_GROUP: {
    status: 409,
    code: 'INVALID_REQUEST',
    description: 'The group is the tenant default and cannot be removed or deactivated.',
  },
  GROUP_INACTIVE: { status: 409, code: 'INVALID_REQUEST', description: 'Stores cannot be allocated to an inactive group.' },
  STORE_NOT_IN_GROUP: { status: 409, code: 'INVALID_REQUEST', description: 'A store to remove is not allocated to this group.' },
  STORE_MOVED: { status: 409, code: 'INVALID_REQUEST', description: 'The store moved to another group since it was read.' },
  PIPE_IN_USE: { status: 409, code: 'INVALID_REQUEST', description: 'The pipe is still allowed for a tenant or called by another pipe.' },
  PUBLIC_CLIENT: {
    status: 409,
    code: 'INVALID_REQUEST',
    description: 'A public client has no secret to rotate (giving it one would make it confidential).',
  },
  KEY_TOO_NEW: {
    status: 409,
    code: 'INVALID_REQUEST',
    description: 'The key was written less than the JWKS cache lifetime ago; relying parties may not have it yet.',
  },
  NOT_CONFIGURED: {
    status: 409,
    code: 'INVALID_REQUEST',
    description: 'The main file names no access-groups (or directory) file to edit.',
  },
  CONFIG_INVALID: {
    status: 409,
    code: 'INVALID_REQUEST',
    description: 'The file on disk does not load as it is; fix it before editing through the API.',
  },
  CONFIG_REFUSED: {
    status: 422,
    code: 'INVALID_REQUEST',
    description: 'The whole config with the change does not load; the answer lists the issues, nothing was written.',
  },
  SECRET_REFERENCE: {
    status: 422,
    code: 'INVALID_REQUEST',
    description:
      'The body holds a ${env:…} or ${file:…} reference (or a spelling of one); they are resolved only in files the operator edits on disk.',
  },
  PRECONDITION_FAILED: { status: 412, code: 'INVALID_REQUEST', description: 'If-Match names a version that is no longer current.' },
  PAYLOAD_TOO_LARGE: { status: 413, code: 'INVALID_REQUEST', description: 'The body is over the admin limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, code: 'INVALID_REQUEST', description: 'Content-Type must be application/json.' },
  PRECONDITION_REQUIRED: { status: 428, code: 'INVALID_REQUEST', description: 'A change needs If-Match with the current version (ETag).' },
  BUSY: { status: 503, code: 'BUSY', description: 'Another change holds the config lock; retry after Retry-After.' },
  NOT_PROPAGATED: {
    status: 503,
    code: 'COMMUNICATION_ERROR',
    description: 'The change is saved and in effect here, but not every worker or engine confirmed it in time.',
  },
  RELOAD_FAILED: {
    status: 500,
    code: 'INTERNAL_ERROR',
    description: 'The change was written but the config did not load; the file was put back.',
  },
} as const satisfies Record<string, { status: number; code: ErrorCode; description: string }>;

export type AdminReason = keyof typeof ADMIN_REASONS;

/**
 * Codes of config issues (load, reload, `authpipe validate`, /readyz): what kind of problem
 * an admin has to fix, beside the file, the JSON pointer and the message. Every issue and
 * warning carries one (ConfigIssue.code is required). To add a kind: one line here and one
 * row in docs/contract.md; test/docs/error-codes.test.ts checks both directions.
 */
export const CONFIG_ISSUE_CODES = {
  CONFIG_READ: 'A file or folder cannot be read.',
  CONFIG_PARSE: 'A file is not valid JSON (the pointer is empty; the message gives line and column).',
  CONFIG_SCHEMA: 'A value breaks the JSON Schema of its file (schemas/).',
  CONFIG_SECRET: 'A ${env:NAME} or ${file:path} reference cannot be resolved.',
  CONFIG_REFERENCE: 'A name points at nothing: a pipe, tenant, listener, store, group, LDAP connection or key.',
  CONFIG_OUTBOUND: "A URL's host and port are not on outbound.allow of the main file (the operator chooses where the server may call).",
  CONFIG_MISSING: 'A valve or section needs another section of the main file that is not there (the tokens section).',
  CONFIG_DATAFLOW:
    'The pipe check: a valve reads what no earlier valve sets (or sets only conditionally), a step never runs, a flow cannot continue.',
  CONFIG_EXPOSED: 'A file that holds secrets (a key, a secret file, the directory) can be read by other users of the machine.',
  CONFIG_DEPRECATED: 'A warning: a former name (of a valve) that still works for one release; use the name the message gives.',
  CONFIG_INVALID: 'Any other rule the schema cannot express (duplicates, conflicting options, bad templates).',
} as const;

export type ConfigIssueCode = keyof typeof CONFIG_ISSUE_CODES;

export interface AuthpipeErrorOptions {
  /** Request properties the caller should look at (`erroneousProperties` of the failure body). */
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
  readonly status: 403 | 500 | 503;
  readonly erroneousProperties: readonly string[];
  readonly extraKeys: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, options: AuthpipeErrorOptions = {}) {
    // A refusal is an answer, not a bug: no stack is captured for it (a 403 never shows one,
    // and the call line names the valve). Capturing it was the largest cost of our own code in
    // a refused call: a rate-limited refusal cost more CPU than a cached login with its token.
    // Faults keep theirs for the fault line.
    const traceLimit = Error.stackTraceLimit;
    if (ERROR_CATALOGUE[code].status === 403) Error.stackTraceLimit = 0;
    super(options.detail ? `${code}: ${options.detail}` : code, { cause: options.cause });
    Error.stackTraceLimit = traceLimit;
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

/** Shorthand for valves: `throw refuse('INVALID_CREDENTIALS', {...})`. Only refusal codes: a fault is `fault()`. */
export function refuse(code: RefusalCode, options?: AuthpipeErrorOptions): AuthpipeError {
  return new AuthpipeError(code, options);
}

/** A fault with its code: `throw fault('COMMUNICATION_ERROR', { detail, cause })`. */
export function fault(code: FaultCode, options?: AuthpipeErrorOptions): AuthpipeError {
  return new AuthpipeError(code, options);
}

/** Anything that is not an AuthpipeError is a fault: a bug or a dependency failure. */
export function toAuthpipeError(err: unknown): AuthpipeError {
  if (err instanceof AuthpipeError) return err;
  return new AuthpipeError('INTERNAL_ERROR', { cause: err, detail: err instanceof Error ? err.message : String(err) });
}

/** The failure body of the authentication API (status, translation keys, erroneous properties) plus our request id. */
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
