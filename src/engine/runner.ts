import { toAuthpipeError, type AuthpipeError } from '../errors.js';
import { emptyProps, hasProp } from './props.js';
import type { CompiledPipe, CompiledStep } from './pipe.js';
import type { CallContext } from './valve.js';

/**
 * Runs a pipe's valves top to bottom. A valve continues (returns), refuses (throws a
 * 403-coded AuthpipeError) or faults (throws anything else, or a 500 code). A refusal
 * from a step with proceed_on_error is recorded in `ctx.error` and the pipe goes on; a
 * fault always stops the pipe: failures fail closed.
 */
export type StepOutcome = 'ran' | 'skipped' | 'refused' | 'proceeded' | 'fault';

export interface RunObserver {
  stepStart?(pipe: CompiledPipe, step: CompiledStep, ctx: CallContext): void;
  stepEnd(
    pipe: CompiledPipe,
    step: CompiledStep,
    ctx: CallContext,
    outcome: StepOutcome,
    ms: number,
    detail: { reason?: string; error?: AuthpipeError },
  ): void;
}

/** Thrown out of runSteps: the error plus the step that raised it, for logs and traces. */
export class StepFailure extends Error {
  constructor(
    readonly error: AuthpipeError,
    readonly pipe: string,
    readonly step: string,
  ) {
    super(error.message, { cause: error });
  }
}

export type SettledHook = (error: AuthpipeError | undefined) => Promise<void> | void;

/**
 * Where a context keeps its hooks: a member of the context itself (engine/context.ts), not a
 * WeakMap keyed by it. Measured: the WeakMap kept every context of a rate-limited call alive
 * through the young-generation collections that ran while it was in the map, so each call's
 * objects were copied and promoted, and collection cost grew with the traffic.
 */
interface Settling {
  settled?: SettledHook[] | undefined;
}

/**
 * Runs `hook` once the call's whole pipe has finished, with the refusal or fault that ended
 * it (undefined on success), before the answer goes out: a valve that must know how the call
 * ended (rate-limit counting failures only) reserves early and settles here.
 */
export function whenSettled(ctx: CallContext, hook: SettledHook): void {
  const settling = ctx as CallContext & Settling;
  if (settling.settled) settling.settled.push(hook);
  else settling.settled = [hook];
}

/** Runs a call's pipe, then its settled hooks (a hook that fails is logged, never thrown over the answer). */
export async function runCall(pipe: CompiledPipe, ctx: CallContext): Promise<void> {
  let failure: unknown;
  try {
    await runSteps(pipe, ctx);
  } catch (thrown) {
    failure = thrown;
  }
  const hooks = (ctx as CallContext & Settling).settled;
  if (hooks) {
    const error = failure === undefined ? undefined : failure instanceof StepFailure ? failure.error : toAuthpipeError(failure);
    for (const hook of hooks) {
      try {
        await hook(error);
      } catch (err) {
        ctx.log.warn({ requestId: ctx.requestId, err }, 'a settled hook failed');
      }
    }
  }
  if (failure !== undefined) throw failure;
}

export async function runSteps(pipe: CompiledPipe, ctx: CallContext): Promise<void> {
  const observer = ctx.observer;
  for (const step of pipe.steps) {
    const started = observer ? performance.now() : 0;
    const skipReason = skipped(step, ctx);
    if (skipReason) {
      observer?.stepEnd(pipe, step, ctx, 'skipped', 0, { reason: skipReason });
      continue;
    }
    observer?.stepStart?.(pipe, step, ctx);
    try {
      const pending = step.run(ctx);
      if (pending) await pending;
      observer?.stepEnd(pipe, step, ctx, 'ran', performance.now() - started, {});
    } catch (thrown) {
      if (thrown instanceof StepFailure) throw thrown; // from a nested pipe-call, already attributed
      const error = toAuthpipeError(thrown);
      if (error.isRefusal && step.proceedOnError) {
        ctx.error = { code: error.code, valve: step.label };
        observer?.stepEnd(pipe, step, ctx, 'proceeded', performance.now() - started, { error });
        continue;
      }
      observer?.stepEnd(pipe, step, ctx, error.isRefusal ? 'refused' : 'fault', performance.now() - started, { error });
      throw new StepFailure(error, pipe.id, step.label);
    }
  }
}

function skipped(step: CompiledStep, ctx: CallContext): string | null {
  if (step.execIf === null && step.skipIf === null) return null;
  const scope = ctx.scope();
  if (step.execIf !== null && !step.execIf(scope)) return 'exec_if is false';
  if (step.skipIf !== null && step.skipIf(scope)) return 'skip_if is true';
  return null;
}

/** The 200 body: the single item's properties named in `response`, and nothing else. */
export function pickResponse(pipe: CompiledPipe, ctx: CallContext): Record<string, string> {
  const out: Record<string, string> = {};
  if (pipe.response.length === 0) return out;
  const props = ctx.items.length === 1 ? (ctx.items[0]?.props ?? emptyProps()) : ctx.item().props;
  for (const name of pipe.response) if (hasProp(props, name)) out[name] = props[name] as string;
  return out;
}
