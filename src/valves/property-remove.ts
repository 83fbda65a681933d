/**
 * property-remove: removes properties from the current item or the session, e.g. to drop an
 * intermediate value before a later valve or before the response is picked.
 */
import { defineValve } from '../engine/valve.js';

export default defineValve({
  name: 'property-remove',
  summary: 'Remove properties from the item or the session.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['properties'],
    properties: {
      properties: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', minLength: 1 },
        description: 'Names of the properties to remove; an absent one is ignored.',
      },
      from: { enum: ['item', 'session'], default: 'item', description: 'Where the properties are removed from.' },
    },
  },
  create(config) {
    const fromSession = config.from === 'session';
    return (ctx) => {
      const props = fromSession ? ctx.session : ctx.item().props;
      for (const name of config.properties) delete props[name];
    };
  },
  dataflow: (config) => ({ removes: config.properties.map((name) => ({ place: config.from, name })) }),
});
