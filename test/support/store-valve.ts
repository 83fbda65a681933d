/**
 * A test-only valve that needs the store: counts calls per key (a template) in a fixed
 * window and refuses with RATE_LIMITED past `limit`, like a lockout counter. Registered
 * through createApp's `valves` option, never in src/valves/index.ts.
 */
import { refuse } from '../../src/errors.js';
import { defineValve } from '../../src/engine/valve.js';

export const storeCounter = defineValve({
  name: 'test-store-counter',
  summary: 'Test only: count calls per key in the store; refuse past the limit.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'limit', 'window_ms'],
    properties: {
      key: { type: 'string', minLength: 1 },
      limit: { type: 'integer', minimum: 1 },
      window_ms: { type: 'integer', minimum: 1 },
    },
  },
  create(config, tools) {
    const key = tools.template(config.key, '/key');
    return async (ctx) => {
      const count = await ctx.store.incr(`count:${key.render(ctx.scope())}`, config.window_ms);
      if (count > config.limit) throw refuse('RATE_LIMITED', { erroneousProperties: ['username'] });
      ctx.item().props.count = String(count);
    };
  },
});

/** A pipe using it: `count` answers the running count for request.username. */
export function countPipe(limit = 1_000_000, windowMs = 60_000): Record<string, unknown> {
  return {
    valves: [{ name: 'test-store-counter', config: { key: '{{request.username}}', limit, window_ms: windowMs } }],
    response: ['count'],
  };
}
