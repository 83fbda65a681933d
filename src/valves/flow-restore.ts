/**
 * flow-restore: continues a flow that flow-save started in an earlier call. The caller sends
 * the handle back; the saved properties come back into the session (default) or onto the
 * item, under an optional prefix. Enforces: the handle's exact shape (anything longer,
 * shorter or with other characters is refused before the store is asked); the calling
 * tenant (another tenant's handle is not found) and operation (it must be in the saved
 * `continue_with`); expiry; and single use by default, by an atomic take, so of parallel
 * continuations exactly one wins. Every refusal is FLOW_INVALID.
 */
import { refuse } from '../errors.js';
import { soleRequestProperty } from '../engine/template.js';
import { defineValve } from '../engine/valve.js';
import { FLOW_HANDLE, flowKey, parseFlowRecord } from '../flow/state.js';

export default defineValve({
  name: 'flow-restore',
  summary: 'Restore the properties flow-save kept under a handle (single use unless keep), into the session or the item.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      handle: { type: 'string', minLength: 1, default: '{{request.flow_id}}', description: 'Template of the handle the caller sent.' },
      into: { enum: ['item', 'session'], default: 'session', description: 'Where the saved properties go.' },
      prefix: {
        type: 'string',
        pattern: '^[A-Za-z0-9_]{0,32}$',
        default: '',
        description: 'Put before each restored name, e.g. "start_".',
      },
      keep: {
        type: 'boolean',
        default: false,
        description: 'false: the handle is used up here (atomic take); true: it stays valid until its TTL.',
      },
    },
  },
  dataflow: (config) => ({ restores: { place: config.into ?? 'session', prefix: config.prefix ?? '' } }),
  create(config, tools) {
    const handleTemplate = tools.template(config.handle, '/handle');
    const blamed = [soleRequestProperty(handleTemplate.source) ?? 'flow_id'];
    const intoSession = config.into === 'session';
    const prefix = config.prefix ?? '';
    const keep = config.keep === true;
    const invalid = (detail: string) => refuse('FLOW_INVALID', { erroneousProperties: blamed, detail: `flow-restore: ${detail}` });

    return async (ctx) => {
      const handle = handleTemplate.render(ctx.scope());
      if (!FLOW_HANDLE.test(handle)) throw invalid(handle === '' ? 'no handle' : 'malformed handle');
      const key = flowKey(handle);
      const stored = await ctx.store.get(key);
      if (stored === null) throw invalid('unknown, expired or used handle');
      const record = parseFlowRecord(stored);
      if (record === null) throw invalid('not a flow record');
      if (record.t !== ctx.tenant.id) throw invalid(`handle of tenant ${record.t}`);
      // Checked before the take: a caller who may not continue the flow does not use it up.
      if (!record.ops.includes(ctx.operation)) throw invalid(`operation ${ctx.operation} may not continue a flow of ${record.o}`);
      if (ctx.clock.now() >= record.e) throw invalid('expired handle');
      // Of parallel continuations, only the one whose take finds the record goes on.
      if (!keep && (await ctx.store.take(key)) === null) throw invalid('handle used by a parallel call');
      const target = intoSession ? ctx.session : ctx.item().props;
      for (const name of Object.keys(record.p)) target[prefix + name] = record.p[name] as string;
    };
  },
});
