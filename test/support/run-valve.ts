/**
 * Runs one valve directly, without HTTP or config files: its config is validated against
 * its schema (defaults applied, as at load) and compiled by the engine's own compiler, then
 * each `call` runs it on a fresh call context. Real parts throughout: a memory store, a
 * manual clock, an empty directory unless one is given.
 *
 *   const valve = buildValve(propertySet, { properties: { a: '{{request.x}}' } });
 *   const { item } = await valve.call({ request: { x: '1' } });
 */
import { compilePipes } from '../../src/engine/compile.js';
import { createCallContext } from '../../src/engine/context.js';
import { ManualClock } from './clock.js';
import { propsFrom } from '../../src/engine/props.js';
import { ValveRegistry } from '../../src/engine/registry.js';
import { runSteps, StepFailure } from '../../src/engine/runner.js';
import type { Services } from '../../src/engine/services.js';
import type { CallContext, ValveDefinition } from '../../src/engine/valve.js';
import { emptyDirectory } from '../../src/directory/load.js';
import { AuthpipeError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { ConfigIssue } from '../../src/config-kit/issues.js';

interface CallInput {
  request?: Record<string, string>;
  headers?: Record<string, string | string[]>;
  item?: Record<string, string>;
  session?: Record<string, string>;
  tenant?: string;
  operation?: string;
}

interface CallResult {
  /** The refusal or fault the valve raised, if any. */
  error: AuthpipeError | undefined;
  item: Record<string, string>;
  session: Record<string, string>;
  ctx: CallContext;
}

export interface BuiltValve {
  readonly services: Services;
  readonly clock: ManualClock;
  call(input?: CallInput): Promise<CallResult>;
}

/** The config problems of a valve config, as the loader reports them (pointer under /valves/0/config). */
export function valveIssues(definition: ValveDefinition<never>, config: unknown, services: Partial<Services> = {}): ConfigIssue[] {
  return compile(definition, config, fullServices(services)).issues;
}

export function buildValve(definition: ValveDefinition<never>, config: unknown, services: Partial<Services> = {}): BuiltValve {
  const all = fullServices(services);
  const { pipe, issues } = compile(definition, config, all);
  if (!pipe || issues.length > 0) throw new Error(`valve config refused: ${issues.map((i) => `${i.pointer}: ${i.message}`).join('; ')}`);
  let calls = 0;
  return {
    services: all,
    clock: all.clock as ManualClock,
    async call(input = {}) {
      const headers: Record<string, string[]> = {};
      for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = Array.isArray(value) ? value : [value];
      const ctx = createCallContext(
        {
          requestId: `test-${++calls}`,
          tenant: { id: input.tenant ?? 'acme', displayName: input.tenant ?? 'acme' },
          operation: input.operation ?? 'test',
          body: propsFrom(input.request ?? {}),
          clientIp: '127.0.0.1',
          headers,
        },
        all,
        all.logger,
      );
      Object.assign(ctx.item().props, input.item ?? {});
      Object.assign(ctx.session, input.session ?? {});
      let error: AuthpipeError | undefined;
      try {
        await runSteps(pipe, ctx);
      } catch (err) {
        if (!(err instanceof StepFailure)) throw err;
        error = err.error;
      }
      const item = ctx.items.length === 1 ? { ...ctx.items[0]!.props } : {};
      return { error, item, session: { ...ctx.session }, ctx };
    },
  };
}

function fullServices(services: Partial<Services>): Services {
  const clock = services.clock ?? new ManualClock();
  return {
    clock,
    store: new MemoryStore(clock),
    logger: silentLogger(),
    configDir: process.cwd(),
    env: {},
    directory: emptyDirectory(),
    ...services,
  };
}

function compile(definition: ValveDefinition<never>, config: unknown, services: Services) {
  const issues: ConfigIssue[] = [];
  const registry = new ValveRegistry([definition]);
  const source = {
    file: 'test-pipe.json',
    config: {
      id: 'test',
      valves: [
        { name: definition.name, enabled: true, proceed_on_error: false, config: structuredClone(config) as Record<string, unknown> },
      ],
      response: [],
    },
  };
  const { pipes } = compilePipes([source], registry, services, issues, []);
  return { pipe: pipes.get('test'), issues };
}
