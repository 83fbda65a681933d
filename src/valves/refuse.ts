/**
 * refuse (formerly flow-fail): refuses on purpose with a configured refusal code, usually behind `exec_if`
 * (e.g. after a valve that ran with proceed_on_error). Only 403 codes may be configured:
 * a pipe cannot fake a server fault.
 */
import { REFUSAL_CODES, refuse } from '../errors.js';
import { defineValve } from '../engine/valve.js';

export default defineValve({
  name: 'refuse',
  formerly: ['flow-fail'],
  summary: 'Refuse with a configured code (usually behind exec_if).',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['code'],
    properties: {
      code: { enum: REFUSAL_CODES, description: 'The refusal code the call ends with (always a 403).' },
      erroneous_properties: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        uniqueItems: true,
        default: [],
        description: 'Request properties named in the refusal.',
      },
      message: { type: 'string', default: 'refused by the pipe', description: 'Logged, never sent to the caller.' },
    },
  },
  create(config) {
    return () => {
      throw refuse(config.code, { erroneousProperties: config.erroneous_properties, detail: config.message });
    };
  },
  dataflow: () => ({ alwaysRefuses: true }),
});
