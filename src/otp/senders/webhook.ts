/**
 * webhook: POSTs the message as JSON to a gateway (SMS, e-mail) that delivers it. The body is
 * signed so the gateway can tell it came from us and is fresh:
 *   x-authpipe-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 * and carries `idempotency-key: <transaction_id>`, so a retry after a lost answer is not
 * delivered twice by a gateway that honours it. One send is one attempt, bounded by its
 * timeout; the delivery queue (otp/delivery.ts) retries what may pass (network errors,
 * timeouts, 408, 429, 5xx: the error says `retryable`). A redirect is not followed (it would
 * resend the code to an address nobody configured): a 3xx answer is a delivery failure,
 * final like a 4xx, and is not retried.
 */
import { createHmac } from 'node:crypto';
import type { OtpSender } from './sender.js';

export interface WebhookOptions {
  url: string;
  secret: string;
  timeoutMs: number;
}

class WebhookError extends Error {
  /** Whether a later attempt may succeed (network, timeout, 408, 429, 5xx); a 3xx or other 4xx is final. */
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

export function webhookSender(options: WebhookOptions): OtpSender {
  const key = Buffer.from(options.secret, 'utf8');
  return {
    type: 'webhook',
    async send(message) {
      const body = JSON.stringify(message);
      const t = Math.floor(Date.now() / 1000);
      const signature = createHmac('sha256', key).update(`${t}.${body}`).digest('hex');
      let res: Response;
      try {
        res = await fetch(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-authpipe-signature': `t=${t},v1=${signature}`,
            'idempotency-key': message.transaction_id,
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (err) {
        const problem = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        throw new WebhookError(`otp webhook ${redactUrl(options.url)} failed: ${problem}`, true);
      }
      // Drain the body so the connection is reusable; its content is not ours to trust.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return;
      throw new WebhookError(`otp webhook ${redactUrl(options.url)} failed: answered ${res.status}`, RETRYABLE(res.status));
    },
  };
}

/** The URL without credentials or query, for messages that reach the log. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
