/**
 * webhook: POSTs the message as JSON to a gateway (SMS, e-mail) that delivers it. The body is
 * signed so the gateway can tell it came from us and is fresh:
 *   x-authpipe-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 * and carries `idempotency-key: <transaction_id>`, so a retry after a lost answer is not
 * delivered twice by a gateway that honours it. Each attempt has a timeout; network errors,
 * timeouts, 408, 429 and 5xx are retried with a short backoff; any other answer is final.
 * A redirect is not followed (it would resend the code to an address nobody configured): a
 * 3xx answer is a delivery failure, final like a 4xx, and is not retried.
 * The total time is bounded by attempts x timeout + backoffs.
 */
import { createHmac } from 'node:crypto';
import type { OtpSender } from './sender.js';

export interface WebhookOptions {
  url: string;
  secret: string;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
}

export class WebhookError extends Error {}

const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

export function webhookSender(options: WebhookOptions): OtpSender {
  const key = Buffer.from(options.secret, 'utf8');
  return {
    type: 'webhook',
    async send(message, log) {
      const body = JSON.stringify(message);
      let lastProblem = '';
      for (let attempt = 0; attempt <= options.retries; attempt++) {
        if (attempt > 0) await delay(options.backoffMs * attempt);
        const t = Math.floor(Date.now() / 1000);
        const signature = createHmac('sha256', key).update(`${t}.${body}`).digest('hex');
        try {
          const res = await fetch(options.url, {
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
          // Drain the body so the connection is reusable; its content is not ours to trust.
          await res.arrayBuffer().catch(() => undefined);
          if (res.ok) return;
          lastProblem = `answered ${res.status}`;
          if (!RETRYABLE(res.status)) break;
        } catch (err) {
          lastProblem = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        }
        log.warn({ sender: 'webhook', attempt: attempt + 1, problem: lastProblem }, 'otp webhook attempt failed');
      }
      throw new WebhookError(`otp webhook ${redactUrl(options.url)} failed: ${lastProblem}`);
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
