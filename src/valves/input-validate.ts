/**
 * input-validate: checks request properties before anything else looks at them: presence,
 * length bounds and a pattern, and with `strict` no property beyond the ones listed. Every
 * failing property is named in erroneousProperties, so a caller can fix them all at once.
 * Patterns are compiled at load and anchored by the admin (a pattern without ^…$ matches
 * anywhere, as in JSON Schema).
 */
import { REFUSAL_CODES, refuse } from '../errors.js';
import { hasProp } from '../engine/props.js';
import { defineValve } from '../engine/valve.js';
import { RESERVED_REQUEST_NAMES } from '../engine/context.js';
import { pointer } from '../config-kit/issues.js';

export default defineValve({
  name: 'input-validate',
  summary: 'Refuse requests whose properties are missing, too long, malformed, or (strict) unexpected.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['properties'],
    properties: {
      properties: {
        description: 'Request property name to its rule; lengths are counted in characters (code points).',
        type: 'object',
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          properties: {
            required: {
              type: 'boolean',
              default: false,
              description: 'Refuse the call when the property is absent; false: an absent property passes.',
            },
            min_length: { type: 'integer', minimum: 0, default: 0, description: 'Fewest characters a present value may have.' },
            max_length: { type: 'integer', minimum: 0, description: 'Most characters a present value may have; absent: no bound.' },
            pattern: {
              type: 'string',
              description: 'Regular expression (Unicode mode) a present value must match; unanchored unless written with ^…$.',
            },
          },
        },
      },
      strict: { type: 'boolean', default: false, description: 'Refuse request properties that are not listed.' },
      code: {
        enum: REFUSAL_CODES,
        default: 'INVALID_REQUEST',
        description: 'The refusal code when a property fails, with every failing property in erroneousProperties.',
      },
    },
  },
  create(config, tools) {
    const rules = Object.entries(config.properties).map(([name, rule]) => {
      let pattern: RegExp | null = null;
      if (rule.pattern !== undefined) {
        try {
          pattern = new RegExp(rule.pattern, 'u');
        } catch (err) {
          tools.fail(pointer('properties', name, 'pattern'), `not a valid regular expression: ${(err as Error).message}`, 'CONFIG_INVALID');
        }
      }
      return { name, required: rule.required, min: rule.min_length, max: rule.max_length ?? Infinity, pattern };
    });
    const listed = new Set(rules.map((r) => r.name));
    const code = config.code;
    return (ctx) => {
      const bad: string[] = [];
      for (const rule of rules) {
        if (!hasProp(ctx.request, rule.name)) {
          if (rule.required) bad.push(rule.name);
          continue;
        }
        const value = ctx.request[rule.name] as string;
        const length = [...value].length;
        if (length < rule.min || length > rule.max || (rule.pattern !== null && !rule.pattern.test(value))) bad.push(rule.name);
      }
      if (config.strict) {
        for (const name of Object.keys(ctx.request)) if (!listed.has(name) && !RESERVED_REQUEST_NAMES.has(name)) bad.push(name);
      }
      if (bad.length > 0) throw refuse(code, { erroneousProperties: bad, detail: `invalid properties: ${bad.join(', ')}` });
    };
  },
  dataflow: (config) => (config.strict === true ? { requestOnly: Object.keys(config.properties) } : {}),
});
