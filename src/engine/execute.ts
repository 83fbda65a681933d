/**
 * The one way a pipe runs for a call, whatever door it came through (the PUT API, the hosted
 * login, a dry run): a call context from the input, the steps, the settle hooks
 * (`whenSettled`: a rate limit that counts failures only learns here how the call ended),
 * then the answer or the coded error, with the step that raised it. Each door then reports
 * the call through the same `CallEvent`, labelled with its door, so metrics, the audit log
 * and the console see every door alike.
 */
import type { Logger } from 'pino';
import { toAuthpipeError, type AuthpipeError } from '../errors.js';
import { createCallContext, type CallInput } from './context.js';
import type { CompiledPipe } from './pipe.js';
import { pickResponse, settleHooks, StepFailure, stepsFrom } from './runner.js';
import type { Services } from './services.js';
import type { CallContext } from './valve.js';

/** Where a call came in: a label on metrics, audit events and the call log. */
export type Door = 'put' | 'hosted' | 'token' | 'dry-run';

export type Outcome =
  | { readonly ok: true; readonly answer: Record<string, string>; readonly ctx: CallContext }
  | { readonly ok: false; readonly error: AuthpipeError; readonly step: string | undefined; readonly ctx: CallContext };

export function execute(pipe: CompiledPipe, input: CallInput, services: Services, logger: Logger): Outcome | Promise<Outcome> {
  const ctx = createCallContext(input, services, logger);
  // Not an async function: a pipe whose steps all finish at once (and its hooks) answers
  // with its outcome, without a promise; otherwise the steps' promise carries on to the
  // outcome. Its callback returns the outcome itself, not a promise of it: a promise returned
  // there costs two more turns of the microtask queue and two promises, on every call.
  const pending = firstSteps(pipe, ctx);
  if (!(pending instanceof Promise)) return settled(pipe, ctx, pending);
  return pending.then(
    () => settled(pipe, ctx, undefined),
    (thrown: unknown) => settled(pipe, ctx, thrown),
  );
}

/**
 * `execute` for a door that answers from a callback (the PUT door): `done` gets the outcome,
 * in this turn when the pipe finished at once. A pipe still running hands its outcome to
 * `done` from its own continuation: one promise and one turn of the microtask queue fewer
 * than a `.then` on execute's promise, on every call that waits (a signature, the store).
 * `failed` gets what a hook's promise was rejected with (a bug: hooks' failures are logged).
 */
export function executeThen(
  pipe: CompiledPipe,
  input: CallInput,
  services: Services,
  logger: Logger,
  done: (outcome: Outcome) => void,
  failed: (thrown: unknown) => void,
): void {
  const ctx = createCallContext(input, services, logger);
  const pending = firstSteps(pipe, ctx);
  if (!(pending instanceof Promise)) return deliver(settled(pipe, ctx, pending), done, failed);
  pending.then(
    () => deliver(settled(pipe, ctx, undefined), done, failed),
    (thrown: unknown) => deliver(settled(pipe, ctx, thrown), done, failed),
  );
}

/** The pipe's steps from the first: their promise, or how they ended at once (undefined, a StepFailure or what was thrown). */
function firstSteps(pipe: CompiledPipe, ctx: CallContext): Promise<void> | unknown {
  try {
    return stepsFrom(pipe, ctx, 0);
  } catch (thrown) {
    return thrown;
  }
}

function deliver(outcome: Outcome | Promise<Outcome>, done: (outcome: Outcome) => void, failed: (thrown: unknown) => void): void {
  if (outcome instanceof Promise) outcome.then(done, failed);
  else done(outcome);
}

/** The outcome, once the settled hooks have run with how the call ended (a promise only while a hook still runs). */
function settled(pipe: CompiledPipe, ctx: CallContext, failure: unknown): Outcome | Promise<Outcome> {
  const hooks = settleHooks(ctx, failure);
  if (hooks) return hooks.then(() => outcomeOf(pipe, ctx, failure));
  return outcomeOf(pipe, ctx, failure);
}

function outcomeOf(pipe: CompiledPipe, ctx: CallContext, failure: unknown): Outcome {
  if (failure === undefined) {
    try {
      return { ok: true, answer: pickResponse(pipe, ctx), ctx };
    } catch (thrown) {
      return { ok: false, error: toAuthpipeError(thrown), step: undefined, ctx };
    }
  }
  if (failure instanceof StepFailure) return { ok: false, error: failure.error, step: failure.step, ctx };
  return { ok: false, error: toAuthpipeError(failure), step: undefined, ctx };
}

/** One answered call, whatever its door: what metrics, the audit log and the console count. */
export interface CallEvent {
  requestId: string;
  door: Door;
  tenant: string | undefined;
  operation: string | undefined;
  status: number;
  code: string | undefined;
  ms: number;
  /** Who the call was about (engine/audit.ts subjectOf), when the pipe got that far. */
  subject: string | undefined;
  /** The subject the pipe established, if any: only then is a 200 an authentication. */
  authenticated: string | undefined;
}
