/**
 * webhook: POSTs the message as JSON to a gateway (SMS, e-mail) that delivers it. The body is
 * signed so the gateway can tell it came from us and is fresh:
 *   x-authpipe-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 * and carries `idempotency-key: <transaction_id>`, so a retry after a lost answer is not
 * delivered twice by a gateway that honours it. One send is one attempt, bounded by its
 * timeout; the delivery queue (otp/delivery.ts) retries what may pass (network errors,
 * timeouts, 408, 429, 5xx: the error says `retryable`). A redirect is not followed (it would
 * resend the code to an address nobody configured): a 3xx answer is a delivery failure,
 * final like a 4xx, and is not retried. The URL's host and port must be on the operator's
 * `outbound.allow`; a name resolving to an internal address it does not list fails, final too.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { OutboundRefused, type OutboundPolicy } from '../../outbound/policy.js';
import { post } from '../../outbound/post.js';
import type { OtpSender } from './sender.js';

export interface WebhookOptions {
  url: URL;
  secret: string;
  timeoutMs: number;
  /** The operator's outbound allowlist, checked again when the gateway's name resolves. */
  policy: OutboundPolicy;
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
  const where = redactUrl(options.url);
  // Idle keep-alive sockets are unref'd by node, so they never hold the process open.
  const agent = options.url.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  return {
    type: 'webhook',
    async send(message) {
      const body = Buffer.from(JSON.stringify(message));
      const t = Math.floor(Date.now() / 1000);
      const signature = createHmac('sha256', key).update(`${t}.`).update(body).digest('hex');
      let status: number;
      try {
        ({ status } = await post(options.url, {
          body,
          headers: {
            'content-type': 'application/json',
            'content-length': String(body.length),
            'x-authpipe-signature': `t=${t},v1=${signature}`,
            'idempotency-key': message.transaction_id,
          },
          agent,
          policy: options.policy,
          timeoutMs: options.timeoutMs,
          // Read to the end so the connection is reusable; its content is not ours to trust.
          maxBytes: 'discard',
        }));
      } catch (err) {
        const problem = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        // A refused destination stays refused: retrying would only repeat the refusal.
        throw new WebhookError(`otp webhook ${where} failed: ${problem}`, !(err instanceof OutboundRefused));
      }
      if (status >= 200 && status < 300) return;
      throw new WebhookError(`otp webhook ${where} failed: answered ${status}`, RETRYABLE(status));
    },
    close() {
      agent.destroy();
    },
  };
}

/** The URL without credentials or query, for messages that reach the log. */
function redactUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}
