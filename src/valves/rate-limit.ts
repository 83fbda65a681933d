/**
 * rate-limit: at most `limit` calls per `window_seconds` for each value of a key template
 * (`{{request.client_ip}}`, `{{tenant.id}}:{{request.username}}`), counted with one atomic
 * increment in the tenant's store, so parallel calls and several processes cannot exceed
 * it. The window is fixed and starts at the first call. Over the limit: RATE_LIMITED with
 * Retry-After (seconds until the window ends). Counters of different operations are apart
 * unless they name the same `bucket`.
 * With `count: "failures"` only calls that end refused with one of `failure_codes` count (a
 * failed credential check, by default). A call reads the stored count and adds the calls of
 * this process still in flight for the same key (held in memory, not in the store), so that
 * parallel guesses cannot pass the limit; only a counted failure writes to the store. A
 * success therefore costs one store read and no write (it used to reserve a unit and give it
 * back: two writes on every login). Across processes on a shared store, the calls in flight
 * on the other processes are not seen, so a burst can pass the limit by at most their number.
 * A spray of failed logins from one address is then stopped before it reaches the hashes,
 * while that address's successful logins go on. With `refusal_delay_ms` a RATE_LIMITED
 * refusal is held that long before it is answered (engine/refusal-delay.ts): a sprayer that
 * waits for its answers is slowed to that pace.
 */
import { createHash } from 'node:crypto';
import { REFUSAL_CODES, refuse } from '../errors.js';
import { whenSettled } from '../engine/runner.js';
import { defineValve, type CallContext } from '../engine/valve.js';
import { readNow } from '../store/store.js';
import { holdRefusal } from '../engine/refusal-delay.js';

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
      refusal_delay_ms: {
        type: 'integer',
        minimum: 0,
        maximum: 10000,
        default: 0,
        description:
          'How long a RATE_LIMITED refusal is held before it is answered: a caller that waits for each answer is slowed to this pace. At most 1,000 refusals are held at once per process; beyond that they are answered at once.',
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
    /** Calls of this process between their check and their end, per store key (count "failures"). */
    const inFlight = new Map<string, number>();
    const storeKeyOf = (ctx: CallContext): string => {
      let value = key.render(ctx.scope());
      if (value.length > MAX_KEY_CHARS) value = createHash('sha256').update(value).digest('base64url');
      return `${failuresOnly ? 'failurelimit' : 'ratelimit'}:${config.bucket ?? ctx.operation}:${value}`;
    };
    const delayMs = config.refusal_delay_ms;
    const limited = async (ctx: CallContext, storeKey: string, count: number): Promise<never> => {
      // Held before the window's end is read, so that Retry-After counts from the answer.
      if (delayMs > 0) {
        const hold = holdRefusal(delayMs);
        ctx.services.metrics?.inc('refusals_held', { tenant: ctx.tenant.id, result: hold ? 'held' : 'cap_full' });
        if (hold) await hold;
      }
      const ttl = await ctx.store.ttl(storeKey);
      const retryAfter = Math.max(1, Math.ceil((ttl ?? windowMs) / 1000));
      throw refuse('RATE_LIMITED', {
        erroneousProperties,
        headers: { 'retry-after': String(retryAfter) },
        detail: `${count} ${failuresOnly ? 'failures' : 'calls'} in the window for ${config.key} (limit ${config.limit})`,
      });
    };
    if (!failuresOnly) {
      return async (ctx) => {
        const storeKey = storeKeyOf(ctx);
        const count = await ctx.store.incr(storeKey, windowMs);
        if (count > config.limit) await limited(ctx, storeKey, count);
      };
    }
    const admit = (ctx: CallContext, storeKey: string, value: string | null): Promise<never> | undefined => {
      const stored = Number(value ?? 0);
      const running = inFlight.get(storeKey) ?? 0;
      // A count the store cannot read as a number fails closed, like a store that does not answer.
      if (!(stored + running < config.limit)) return limited(ctx, storeKey, Number.isFinite(stored) ? stored : config.limit);
      inFlight.set(storeKey, running + 1);
      whenSettled(ctx, (error) => {
        const left = (inFlight.get(storeKey) ?? 1) - 1;
        if (left > 0) inFlight.set(storeKey, left);
        else inFlight.delete(storeKey);
        if (error === undefined || !counted.has(error.code)) return undefined;
        return ctx.store.incr(storeKey, windowMs).then(() => undefined);
      });
      return undefined;
    };
    // Not an async function: on a store that answers at once (memory), a call under the limit
    // passes without a promise; the read and the in-flight count happen in one turn.
    return (ctx) => {
      const storeKey = storeKeyOf(ctx);
      return readNow(ctx.store, storeKey, (value) => admit(ctx, storeKey, value));
    };
  },
  dataflow: () => ({}),
});
