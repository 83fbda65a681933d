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
    // Only a carrier of `error` to the pipe's end: its own stack is never read (a fault's is
    // on its cause), so none is captured.
    const traceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(error.message, { cause: error });
    Error.stackTraceLimit = traceLimit;
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

/**
 * Runs the settled hooks with how the call ended (engine/execute.ts, once the pipe is done):
 * undefined when they all finished at once (the usual case: a failure limit after a success
 * writes nothing), else a promise of the rest. A hook that fails is logged, never thrown over
 * the answer.
 */
export function settleHooks(ctx: CallContext, failure: unknown): Promise<void> | undefined {
  const hooks = (ctx as CallContext & Settling).settled;
  if (!hooks) return undefined;
  const error = failure === undefined ? undefined : failure instanceof StepFailure ? failure.error : toAuthpipeError(failure);
  for (let i = 0; i < hooks.length; i++) {
    const pending = runHook(ctx, hooks[i] as SettledHook, error);
    if (pending) return restOfHooks(ctx, hooks, i, pending, error);
  }
  return undefined;
}

async function restOfHooks(
  ctx: CallContext,
  hooks: readonly SettledHook[],
  at: number,
  pending: Promise<void>,
  error: AuthpipeError | undefined,
): Promise<void> {
  await pending;
  for (let i = at + 1; i < hooks.length; i++) await runHook(ctx, hooks[i] as SettledHook, error);
}

/** One hook; its failure (thrown or rejected) is logged, and the promise it returned settles either way. */
function runHook(ctx: CallContext, hook: SettledHook, error: AuthpipeError | undefined): Promise<void> | undefined {
  const warn = (err: unknown) => ctx.log.warn({ requestId: ctx.requestId, err }, 'a settled hook failed');
  try {
    const pending = hook(error);
    return pending ? pending.then(undefined, warn) : undefined;
  } catch (err) {
    warn(err);
    return undefined;
  }
}

/** Runs a pipe's steps; rejects with a StepFailure (or what a nested pipe threw). */
export function runSteps(pipe: CompiledPipe, ctx: CallContext): Promise<void> {
  try {
    const pending = stepsFrom(pipe, ctx, 0);
    if (pending instanceof StepFailure) return Promise.reject(pending);
    return pending ?? DONE;
  } catch (thrown) {
    return Promise.reject(thrown as Error);
  }
}

const DONE: Promise<void> = Promise.resolve();

/** The detail of a step that ran: one shared object rather than a new one per step (observers only read it). */
const NO_DETAIL: { reason?: string; error?: AuthpipeError } = Object.freeze({});

/**
 * The steps from `from` on. Steps that finish at once run in one loop, without a promise
 * (most valves: a header parsed, a cached credential, a group looked up); the first that
 * returns a promise hands the rest to its continuation. Returns undefined when every step
 * finished at once, and the StepFailure itself when a step refused or failed at once (not
 * thrown: a throw costs V8 a message object and a walk of the stack, microseconds on every
 * refused call, and the caller only reads it); the continuation rejects with one.
 */
export function stepsFrom(pipe: CompiledPipe, ctx: CallContext, from: number, now?: number): Promise<void> | StepFailure | undefined {
  const observer = ctx.observer;
  const steps = pipe.steps;
  // With an observer, a step's end is the next one's start: one clock read per step, not two.
  let clock = observer ? (now ?? performance.now()) : 0;
  for (let i = from; i < steps.length; i++) {
    const step = steps[i] as CompiledStep;
    const started = clock;
    const skipReason = skipped(step, ctx);
    if (skipReason) {
      observer?.stepEnd(pipe, step, ctx, 'skipped', 0, { reason: skipReason });
      continue;
    }
    observer?.stepStart?.(pipe, step, ctx);
    let pending: void | Promise<void>;
    try {
      pending = step.run(ctx);
      if (!pending && observer) {
        clock = performance.now();
        observer.stepEnd(pipe, step, ctx, 'ran', clock - started, NO_DETAIL);
      }
    } catch (thrown) {
      const failure = stepFailed(pipe, step, ctx, thrown, started);
      if (failure) return failure;
      if (observer) clock = performance.now();
      continue;
    }
    if (pending) {
      const next = i + 1;
      return pending.then(
        () => {
          let failure: StepFailure | undefined;
          let ended: number | undefined;
          try {
            if (observer) {
              ended = performance.now();
              observer.stepEnd(pipe, step, ctx, 'ran', ended - started, NO_DETAIL);
            }
          } catch (thrown) {
            failure = stepFailed(pipe, step, ctx, thrown, started);
          }
          return rest(pipe, ctx, next, failure, ended);
        },
        (thrown: unknown) => rest(pipe, ctx, next, stepFailed(pipe, step, ctx, thrown, started)),
      );
    }
  }
  return undefined;
}

/** In a step's continuation: the steps after it, or its failure (a rejection, by then). */
function rest(
  pipe: CompiledPipe,
  ctx: CallContext,
  next: number,
  failure: StepFailure | undefined,
  now?: number,
): Promise<void> | undefined {
  const after = failure ?? stepsFrom(pipe, ctx, next, now);
  if (after instanceof StepFailure) throw after;
  return after;
}

/** A step that threw: recorded and passed (proceed_on_error on a refusal: undefined), else its StepFailure. */
function stepFailed(pipe: CompiledPipe, step: CompiledStep, ctx: CallContext, thrown: unknown, started: number): StepFailure | undefined {
  if (thrown instanceof StepFailure) return thrown; // from a nested pipe-call, already attributed
  const observer = ctx.observer;
  const error = toAuthpipeError(thrown);
  if (error.isRefusal && step.proceedOnError) {
    ctx.error = { code: error.code, valve: step.label };
    observer?.stepEnd(pipe, step, ctx, 'proceeded', performance.now() - started, { error });
    return undefined;
  }
  observer?.stepEnd(pipe, step, ctx, error.isRefusal ? 'refused' : 'fault', performance.now() - started, { error });
  return new StepFailure(error, pipe.id, step.label);
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
