/**
 * property-set: sets properties on the current item (or the session) from templates,
 * e.g. `{"properties": {"greeting": "hello {{request.username}}"}}`. Templates are compiled
 * at load; a reference to an unknown root fails the load.
 */
import { defineValve } from '../engine/valve.js';
import { pointer } from '../config-kit/issues.js';

export default defineValve({
  name: 'property-set',
  summary: 'Set item or session properties from templates.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['properties'],
    properties: {
      properties: {
        type: 'object',
        minProperties: 1,
        additionalProperties: { type: 'string' },
        description: 'Property name to template (e.g. "hello {{request.username}}"), compiled at load.',
      },
      target: { enum: ['item', 'session'], default: 'item', description: 'Where the properties are set.' },
    },
  },
  create(config, tools) {
    const entries = Object.entries(config.properties).map(
      ([name, source]) => [name, tools.template(source, pointer('properties', name))] as const,
    );
    const toSession = config.target === 'session';
    return (ctx) => {
      const scope = ctx.scope();
      const props = toSession ? ctx.session : ctx.item().props;
      for (const [name, template] of entries) props[name] = template.render(scope);
    };
  },
  dataflow: (config) => ({ sets: Object.keys(config.properties).map((name) => ({ place: config.target, name })) }),
});
