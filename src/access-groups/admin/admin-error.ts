/**
 * Refusals of the access-groups admin API. The body keeps the failure shape of the
 * authentication API (seed 003): the first translation key is a code of the one catalogue
 * (src/errors.ts), the second says precisely what went wrong, so a console can translate it,
 * and `message` says it in English for the admin reading a curl answer.
 */
import type { ErrorCode } from '../../errors.js';

export const ADMIN_REASONS = {
  TOKEN_MISSING: 401,
  TOKEN_REJECTED: 401,
  NOT_ADMIN: 403,
  BUILT_IN_READ_ONLY: 403,
  OTHER_TENANT: 403,
  ADMIN_STORES_REFUSED: 403,
  BAD_TENANT: 400,
  BAD_BODY: 400,
  BAD_QUERY: 400,
  UNKNOWN_RESOURCE: 400,
  UNKNOWN_STORE: 400,
  UNKNOWN_GROUP: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NAME_TAKEN: 409,
  ID_TAKEN: 409,
  STORES_ALLOCATED: 409,
  DEFAULT_GROUP: 409,
  GROUP_INACTIVE: 409,
  STORE_NOT_IN_GROUP: 409,
  STORE_MOVED: 409,
  NOT_CONFIGURED: 409,
  CONFIG_INVALID: 409,
  PIPE_IN_USE: 409,
  CONFIG_REFUSED: 422,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PRECONDITION_REQUIRED: 428,
  BUSY: 503,
  NOT_PROPAGATED: 503,
  RELOAD_FAILED: 500,
} as const;

export type AdminReason = keyof typeof ADMIN_REASONS;

function catalogueCode(status: number): ErrorCode {
  if (status === 401) return 'TOKEN_INVALID';
  if (status === 403) return 'ACCESS_DENIED';
  if (status >= 500) return 'INTERNAL_ERROR';
  return 'INVALID_REQUEST';
}

export class AdminError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  /** For the log only (why a token was rejected); never sent. */
  detail: string | undefined;

  constructor(
    readonly reason: AdminReason,
    message: string,
    readonly erroneousProperties: readonly string[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'AdminError';
    this.status = ADMIN_REASONS[reason];
    this.code = catalogueCode(this.status);
  }

  body(requestId: string): Record<string, unknown> {
    return {
      status: 'Failure',
      errorTranslationKeys: [this.code, this.reason],
      ...(this.erroneousProperties.length > 0 ? { erroneousProperties: [...this.erroneousProperties] } : {}),
      message: this.message,
      requestId,
    };
  }
}
