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
      from: { enum: ['request', 'item', 'session'], default: 'request', description: 'Where the properties are read from.' },
      to: { enum: ['item', 'session'], default: 'item', description: 'Where the properties are written to.' },
      properties: {
        description:
          'Names to copy under the same name (a list), or target name to source name (a map); a missing source property is not copied.',
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
  dataflow: (config) => {
    const from = config.from;
    const to = config.to;
    const pairs = Array.isArray(config.properties) ? config.properties.map((n) => [n, n] as const) : Object.entries(config.properties);
    // Request properties may or may not be sent; input-validate is where presence is enforced.
    if (from === 'request') return { sets: pairs.map(([target]) => ({ place: to, name: target, maybe: true })) };
    return {
      copies: pairs.map(([target, name]) => ({
        from: { place: from, name },
        to: { place: to, name: target },
        pointer: Array.isArray(config.properties) ? '/properties' : `/properties/${target}`,
      })),
    };
  },
});
