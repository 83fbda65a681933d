/**
 * flow-save: ends a step of a login that spans calls. It saves chosen item (or session)
 * properties in the store under a fresh opaque handle and puts the handle on the item
 * (`flow_id`), for the caller to send to the next operation, whose pipe restores the state
 * with flow-restore. Enforces: 256 random bits per handle; a TTL; the record is bound to
 * the tenant and to the operations listed in `continue_with`, and nothing else may continue it.
 */
import { hasProp } from '../engine/props.js';
import { defineValve } from '../engine/valve.js';
import { OPERATION_PATTERN } from '../config-kit/patterns.js';
import { flowKey, newFlowHandle, type FlowRecord } from '../flow/state.js';

const NAME = '^[A-Za-z_][A-Za-z0-9_-]{0,99}$';

export default defineValve({
  name: 'flow-save',
  summary: 'Save chosen properties under a fresh single-use handle (flow_id) that a later operation continues with flow-restore.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['properties', 'continue_with'],
    properties: {
      properties: {
        type: 'array',
        minItems: 1,
        maxItems: 64,
        uniqueItems: true,
        items: { type: 'string', pattern: NAME },
        description: 'Names of the properties to save; one that is absent is not saved.',
      },
      from: { enum: ['item', 'session'], default: 'item', description: 'Where the properties to save are read from.' },
      continue_with: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', pattern: OPERATION_PATTERN },
        description: 'Operations allowed to continue the flow (their pipes run flow-restore).',
      },
      ttl_seconds: { type: 'integer', minimum: 1, maximum: 86400, default: 600, description: 'How long the handle stays valid.' },
      handle_property: {
        type: 'string',
        pattern: NAME,
        default: 'flow_id',
        description: 'Item property the handle is put on (name it in the pipe response).',
      },
    },
  },
  dataflow: (config) => ({
    saves: { place: config.from, names: config.properties, operations: config.continue_with, pointer: '/properties' },
    sets: [{ place: 'item', name: config.handle_property }],
  }),
  create(config) {
    const names = config.properties;
    const fromSession = config.from === 'session';
    const ops = [...config.continue_with];
    const ttlMs = config.ttl_seconds * 1000;
    const handleProperty = config.handle_property;
    return async (ctx) => {
      const source = fromSession ? ctx.session : ctx.item().props;
      const saved: Record<string, string> = {};
      for (const name of names) if (hasProp(source, name)) saved[name] = source[name] as string;
      const handle = newFlowHandle();
      const record: FlowRecord = { v: 1, t: ctx.tenant.id, o: ctx.operation, ops, p: saved, e: ctx.clock.now() + ttlMs };
      await ctx.store.set(flowKey(handle), JSON.stringify(record), ttlMs);
      ctx.item().props[handleProperty] = handle;
      ctx.proved.handles.push(handleProperty);
    };
  },
});
