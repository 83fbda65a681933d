/**
 * rate-limit: at most `limit` calls per `window_seconds` for each value of a key template
 * (`{{request.client_ip}}`, `{{tenant.id}}:{{request.username}}`), counted with one atomic
 * increment in the tenant's store, so parallel calls and several processes cannot exceed
 * it. The window is fixed and starts at the first call. Over the limit: RATE_LIMITED with
 * Retry-After (seconds until the window ends). Counters of different operations are apart
 * unless they name the same `bucket`.
 * With `count: "failures"` only calls that end refused with one of `failure_codes` count (a
 * failed credential check, by default): each call still reserves a unit up front, so that
 * parallel guesses cannot exceed the limit, and gives it back when the pipe ends otherwise.
 * A spray of failed logins from one address is then stopped before it reaches the hashes,
 * while that address's successful logins go on.
 */
import { createHash } from 'node:crypto';
import { REFUSAL_CODES, refuse } from '../errors.js';
import { whenSettled } from '../engine/runner.js';
import { defineValve } from '../engine/valve.js';

/** Long keys (a caller-chosen value) are hashed so a store key stays small. */
const MAX_KEY_CHARS = 128;

export default defineValve({
  name: 'rate-limit',
  summary: 'Refuse with RATE_LIMITED and Retry-After beyond `limit` calls (or failed calls) per window for each key.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'limit', 'window_seconds'],
    properties: {
      key: { type: 'string', minLength: 1, description: 'Template of what is counted, e.g. {{request.client_ip}}.' },
      limit: { type: 'integer', minimum: 1, description: 'Calls allowed per window.' },
      window_seconds: {
        type: 'integer',
        minimum: 1,
        maximum: 86400,
        description: 'Length of the fixed window, starting at its first call; Retry-After counts down to its end.',
      },
      bucket: {
        type: 'string',
        pattern: '^[A-Za-z0-9_.-]{1,64}$',
        description: 'Counter namespace; default the operation, so pipes count apart unless they share a bucket.',
      },
      erroneous_properties: {
        type: 'array',
        uniqueItems: true,
        items: { type: 'string', minLength: 1 },
        default: [],
        description: 'Request properties named in the RATE_LIMITED refusal.',
      },
      count: {
        enum: ['calls', 'failures'],
        default: 'calls',
        description: 'calls: every call counts; failures: only calls that end refused with one of failure_codes.',
      },
      failure_codes: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { enum: REFUSAL_CODES },
        description: 'With count "failures": the refusals that count (default INVALID_CREDENTIALS and OTP_INVALID).',
      },
    },
    // Only count "failures" takes failure_codes, so their default lives in that branch.
    allOf: [
      {
        if: { properties: { count: { const: 'failures' } }, required: ['count'] },
        then: { properties: { failure_codes: { default: ['INVALID_CREDENTIALS', 'OTP_INVALID'] } } },
      },
    ],
  },
  create(config, tools) {
    const key = tools.template(config.key, '/key');
    const windowMs = config.window_seconds * 1000;
    const erroneousProperties = config.erroneous_properties;
    const failuresOnly = config.count === 'failures';
    if (!failuresOnly && config.failure_codes !== undefined)
      tools.fail('/failure_codes', 'failure_codes applies only with count "failures"', 'CONFIG_INVALID');
    const counted = new Set<string>(config.failure_codes);
    return async (ctx) => {
      let value = key.render(ctx.scope());
      if (value.length > MAX_KEY_CHARS) value = createHash('sha256').update(value).digest('base64url');
      const storeKey = `${failuresOnly ? 'failurelimit' : 'ratelimit'}:${config.bucket ?? ctx.operation}:${value}`;
      const count = await ctx.store.incr(storeKey, windowMs);
      if (count <= config.limit) {
        // The unit reserved is given back unless the call ends with a counted refusal. After a
        // fault (the store itself may be what failed) the answer does not wait for it: a hung
        // store would otherwise hold the call for a second timeout.
        if (failuresOnly)
          whenSettled(ctx, (error) => {
            if (error && counted.has(error.code)) return undefined;
            const giveBack = ctx.store.incr(storeKey, windowMs, -1).then(() => undefined);
            if (error === undefined || error.isRefusal) return giveBack;
            giveBack.catch((err: unknown) =>
              ctx.log.warn({ requestId: ctx.requestId, err }, 'rate-limit: a reserved unit could not be given back'),
            );
            return undefined;
          });
        return;
      }
      // A call refused here is no failure of its own: it leaves the count where it was.
      if (failuresOnly) await ctx.store.incr(storeKey, windowMs, -1);
      const ttl = await ctx.store.ttl(storeKey);
      const retryAfter = Math.max(1, Math.ceil((ttl ?? windowMs) / 1000));
      throw refuse('RATE_LIMITED', {
        erroneousProperties,
        headers: { 'retry-after': String(retryAfter) },
        detail: `${failuresOnly ? count - 1 : count} ${failuresOnly ? 'failures' : 'calls'} in the window for ${config.key} (limit ${config.limit})`,
      });
    };
  },
  dataflow: () => ({}),
});
