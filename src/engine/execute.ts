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
import { authenticatedOf, subjectOf } from './audit.js';
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
  let pending: Promise<void> | StepFailure | undefined;
  try {
    pending = stepsFrom(pipe, ctx, 0);
  } catch (thrown) {
    return settled(pipe, ctx, thrown);
  }
  if (pending === undefined || pending instanceof StepFailure) return settled(pipe, ctx, pending);
  return pending.then(
    () => settled(pipe, ctx, undefined),
    (thrown: unknown) => settled(pipe, ctx, thrown),
  );
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

/** Who the call was about, and whom it authenticated, for its CallEvent. */
export function subjectsOf(ctx: CallContext | undefined): { subject: string | undefined; authenticated: string | undefined } {
  return ctx ? { subject: subjectOf(ctx), authenticated: authenticatedOf(ctx) } : { subject: undefined, authenticated: undefined };
}
