/**
 * property-copy: copies named properties from the request, the item or the session to the
 * item or the session. `properties` is a list (same names) or a map of target name to
 * source name. A missing source property is not copied: input-validate is where presence
 * is enforced.
 */
import { hasProp } from '../engine/props.js';
import { defineValve, type CallContext } from '../engine/valve.js';

function source(ctx: CallContext, from: 'request' | 'item' | 'session'): Readonly<Record<string, string>> {
  if (from === 'request') return ctx.request;
  return from === 'item' ? ctx.item().props : ctx.session;
}

export default defineValve({
  name: 'property-copy',
  summary: 'Copy properties between request, item and session.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['properties'],
    properties: {
      from: { enum: ['request', 'item', 'session'], default: 'request' },
      to: { enum: ['item', 'session'], default: 'item' },
      properties: {
        oneOf: [
          { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } },
          { type: 'object', minProperties: 1, additionalProperties: { type: 'string', minLength: 1 } },
        ],
      },
    },
  },
  create(config) {
    const pairs: (readonly [string, string])[] = Array.isArray(config.properties)
      ? config.properties.map((n) => [n, n] as const)
      : Object.entries(config.properties);
    const from = config.from;
    const toSession = config.to === 'session';
    return (ctx) => {
      const src = source(ctx, from);
      const dst = toSession ? ctx.session : ctx.item().props;
      for (const [target, name] of pairs) if (hasProp(src, name)) dst[target] = src[name] as string;
    };
  },
});
