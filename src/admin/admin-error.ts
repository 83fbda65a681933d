/**
 * Refusals of the admin API (every area: config, directory, access groups). The body keeps
 * the failure shape of the authentication API: the first translation key is a code of the one
 * catalogue (src/errors.ts, ADMIN_REASONS there), the second says precisely what went wrong,
 * so a console can translate it, and `message` says it in English for the admin reading a
 * curl answer.
 *
 * Why a class apart from the engine's AuthpipeError: the PUT contract answers 403 or 500 and
 * nothing else, and never tells a caller more than a code; the admin API is ordinary REST
 * for an authenticated admin (400, 401, 404, 405, 409, 412, 422, 428, 503, Allow and
 * Retry-After headers, a message in words). Both draw their codes from the one catalogue.
 */
import { ADMIN_REASONS, type AdminReason, type ErrorCode } from '../errors.js';

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
    this.status = ADMIN_REASONS[reason].status;
    this.code = ADMIN_REASONS[reason].code;
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
