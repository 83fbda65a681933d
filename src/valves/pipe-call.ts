/**
 * pipe-call: runs another pipe's valves on the current flow, so shared steps (input checks,
 * credential checks) are written once. The loader checks the target exists and that calls
 * form no cycle. The called pipe's `response` is ignored: only the outer pipe answers.
 */
import { defineValve } from '../engine/valve.js';
import { OPERATION_PATTERN } from '../config-kit/patterns.js';

export default defineValve({
  name: 'pipe-call',
  summary: 'Run another pipe on the current flow.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['pipe'],
    properties: {
      pipe: {
        type: 'string',
        pattern: OPERATION_PATTERN,
        description: 'Id of the pipe whose valves run here; it must exist, and calls must not form a cycle.',
      },
    },
  },
  references: (config) => ({ pipes: [config.pipe] }),
  create(config, tools) {
    const target = tools.pipe(config.pipe);
    return (ctx) => target.run(ctx);
  },
  dataflow: (config) => ({ calls: config.pipe }),
});
