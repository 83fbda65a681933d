/**
 * The senders an otp-issue valve may name in its `sender` config, with that config's schema.
 * Building one checks what the schema cannot: the webhook URL's scheme, its place on the
 * operator's outbound allowlist, and the rule that the `log` sender is refused in production.
 * Problems come back as (pointer, message) so the valve reports them at the right place in
 * the pipe file.
 */
import { createHash } from 'node:crypto';
import type { ConfigIssueCode } from '../../errors.js';
import { OutboundPolicy } from '../../outbound/policy.js';
import { logSender } from './log.js';
import { DEFAULT_OUTBOX, outboxSender } from './outbox.js';
import type { ConfigOf } from '../../engine/valve.js';
import type { OtpSender } from './sender.js';
import { webhookSender } from './webhook.js';
import { DEFAULT_CONCURRENCY, senderId } from '../delivery.js';

export type { OtpChannel, OtpMessage, OtpSender } from './sender.js';

const WEBHOOK_ONLY = ['url', 'secret', 'timeout_ms', 'retries', 'backoff_ms', 'concurrency'] as const;

export const senderSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  description: 'Where codes go: outbox (a JSON-lines file), webhook (a signed POST) or log (development only).',
  properties: {
    type: { enum: ['outbox', 'webhook', 'log'], description: 'The kind of sender; each takes only its own settings.' },
    file: {
      type: 'string',
      minLength: 1,
      description: `outbox: the file; a relative path resolves against the working folder (default ${DEFAULT_OUTBOX}).`,
    },
    url: { type: 'string', minLength: 1, description: 'webhook: http(s) URL the message is POSTed to.' },
    secret: {
      type: 'string',
      minLength: 16,
      description: 'webhook: HMAC-SHA256 key for x-authpipe-signature; use ${env:NAME} or ${file:path}.',
    },
    timeout_ms: { type: 'integer', minimum: 50, maximum: 30000, description: 'webhook: per attempt (default 2000).' },
    retries: {
      type: 'integer',
      minimum: 0,
      maximum: 5,
      description:
        'webhook: deliveries tried again after the first fails (network, timeout, 408, 429, 5xx), from the delivery queue (default 2).',
    },
    backoff_ms: {
      type: 'integer',
      minimum: 0,
      maximum: 5000,
      description: 'webhook: wait before retry n is backoff_ms x 2^(n-1) (default 200).',
    },
    concurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 64,
      description:
        "webhook: deliveries in flight at once, per process (default 8). Each process sends at most concurrency / (the gateway's answer time) codes a second: 8 to a gateway that answers in 200 ms is 40 a second.",
    },
  },
  // Each type takes its own settings only: a stray `url` on an outbox is a mistake worth a load error.
  // So the defaults live in each type's branch, where Ajv applies them only for that type.
  allOf: [
    {
      if: { properties: { type: { const: 'webhook' } } },
      then: {
        required: ['url', 'secret'],
        properties: {
          url: { type: 'string' },
          secret: { type: 'string' },
          timeout_ms: { default: 2000 },
          retries: { default: 2 },
          backoff_ms: { default: 200 },
          concurrency: { default: DEFAULT_CONCURRENCY },
        },
      },
    },
    { if: { properties: { type: { const: 'outbox' } } }, then: { properties: { file: { default: DEFAULT_OUTBOX } } } },
    {
      if: { properties: { type: { enum: ['outbox', 'log'] } } },
      then: { properties: Object.fromEntries(WEBHOOK_ONLY.map((p) => [p, false])) },
    },
    { if: { properties: { type: { enum: ['webhook', 'log'] } } }, then: { properties: { file: false } } },
  ],
} as const;

/** A sender's validated config (the type-specific rules and defaults live in the schema's branches). */
export type SenderConfig = ConfigOf<typeof senderSchema>;

/** A built sender and its retry policy; `id` is a digest of the whole sender config, which keys its delivery queue. */
export type SenderResult =
  | { sender: OtpSender; id: string; retries: number; backoffMs: number; concurrency: number }
  | { pointer: string; message: string; code: ConfigIssueCode };

export function createSender(
  config: SenderConfig,
  env: Readonly<Record<string, string | undefined>>,
  outbound: OutboundPolicy | undefined,
): SenderResult {
  switch (config.type) {
    case 'outbox':
      // The outbox branch of the schema defaults the file. A local file rarely fails; two retries
      // cover a full disk for a moment.
      return {
        sender: outboxSender(config.file),
        id: senderId({ type: 'outbox', file: config.file as string }),
        retries: 2,
        backoffMs: 200,
        concurrency: DEFAULT_CONCURRENCY,
      };
    case 'log':
      if (env.NODE_ENV === 'production') {
        return {
          pointer: '/type',
          code: 'CONFIG_INVALID',
          message: 'the "log" sender writes codes to the log and is refused when NODE_ENV is production; use "webhook"',
        };
      }
      return { sender: logSender(), id: senderId({ type: 'log' }), retries: 0, backoffMs: 0, concurrency: DEFAULT_CONCURRENCY };
    case 'webhook': {
      let url: URL;
      try {
        url = new URL(config.url as string);
      } catch {
        return { pointer: '/url', code: 'CONFIG_INVALID', message: `"${config.url}" is not a URL; expected http(s)://host/path` };
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:')
        return { pointer: '/url', code: 'CONFIG_INVALID', message: `expected an http or https URL, got ${url.protocol}` };
      if (url.username || url.password)
        return {
          pointer: '/url',
          code: 'CONFIG_INVALID',
          message: 'credentials in the URL would reach logs; the signature authenticates us',
        };
      // Hand-built services without the feature: nothing is allowed, so the load says so.
      const policy = outbound ?? new OutboundPolicy([], []);
      const refused = policy.refusal(url);
      if (refused !== undefined) return { pointer: '/url', message: refused, code: 'CONFIG_OUTBOUND' };
      return {
        // Every setting that changes what goes out or how it is retried: another secret is another queue.
        id: senderId({
          type: 'webhook',
          url: url.href,
          secret: createHash('sha256')
            .update(`authpipe otp webhook secret\0${config.secret as string}`)
            .digest('hex'),
          timeout_ms: config.timeout_ms,
          retries: config.retries,
          backoff_ms: config.backoff_ms,
        }),
        retries: config.retries as number,
        backoffMs: config.backoff_ms as number,
        // Not in the id: raising it while codes wait keeps them in the same queue.
        concurrency: config.concurrency as number,
        sender: webhookSender({
          url,
          secret: config.secret as string,
          policy,
          // The webhook branch of the schema defaults these.
          timeoutMs: config.timeout_ms as number,
        }),
      };
    }
  }
}
