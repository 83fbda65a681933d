/**
 * rate-limit: at most `limit` calls per `window_seconds` for each value of a key template
 * (`{{request.client_ip}}`, `{{tenant.id}}:{{request.username}}`), counted with one atomic
 * increment in the tenant's store, so parallel calls and several processes cannot exceed
 * it. The window is fixed and starts at the first call. Over the limit: RATE_LIMITED with
 * Retry-After (seconds until the window ends). Counters of different operations are apart
 * unless they name the same `bucket`.
 */
import { createHash } from 'node:crypto';
import { refuse } from '../errors.js';
import { defineValve } from '../engine/valve.js';

/** Long keys (a caller-chosen value) are hashed so a store key stays small. */
const MAX_KEY_CHARS = 128;

export default defineValve({
  name: 'rate-limit',
  summary: 'Refuse with RATE_LIMITED and Retry-After beyond `limit` calls per window for each key.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'limit', 'window_seconds'],
    properties: {
      key: { type: 'string', minLength: 1, description: 'Template of what is counted, e.g. {{request.client_ip}}.' },
      limit: { type: 'integer', minimum: 1, description: 'Calls allowed per window.' },
      window_seconds: { type: 'integer', minimum: 1, maximum: 86400 },
      bucket: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Counter namespace; default the operation, so pipes count apart unless they share a bucket.' },
      erroneous_properties: { type: 'array', uniqueItems: true, items: { type: 'string', minLength: 1 }, default: [] },
    },
  },
  create(config, tools) {
    const key = tools.template(config.key, '/key');
    const windowMs = config.window_seconds * 1000;
    const erroneousProperties = config.erroneous_properties;
    return async (ctx) => {
      let value = key.render(ctx.scope());
      if (value.length > MAX_KEY_CHARS) value = createHash('sha256').update(value).digest('base64url');
      const storeKey = `ratelimit:${config.bucket ?? ctx.operation}:${value}`;
      const count = await ctx.store.incr(storeKey, windowMs);
      if (count <= config.limit) return;
      const ttl = await ctx.store.ttl(storeKey);
      const retryAfter = Math.max(1, Math.ceil((ttl ?? windowMs) / 1000));
      throw refuse('RATE_LIMITED', {
        erroneousProperties,
        headers: { 'retry-after': String(retryAfter) },
        detail: `${count} calls in the window for ${config.key} (limit ${config.limit})`,
      });
    };
  },
});
