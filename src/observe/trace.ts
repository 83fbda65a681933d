import type { AuthpipeError } from '../errors.js';
import type { CompiledPipe, CompiledStep } from '../engine/pipe.js';
import { isSecretName, type Props } from '../engine/props.js';
import type { RunObserver, StepOutcome } from '../engine/runner.js';
import type { CallContext } from '../engine/valve.js';

/**
 * A step-by-step record of one call, for `authpipe run --trace` and the server's debug
 * switch: per step its pipe, valve and label, whether it ran or was skipped and by which
 * condition, the properties it added, changed or removed, its outcome and its time.
 * Snapshots are taken only while a trace is recording; the plain hot path never sees this.
 * Values are masked when their name looks secret, or when they equal a value that sat under
 * such a name (a password copied into an innocently named property stays masked).
 */
export type TraceOutcome = StepOutcome | 'failed-inside';

export interface TraceChange {
  /** `item`, `item[<id>]` when the flow holds several, `session`, or `flow` (an item added or removed). */
  scope: string;
  name: string;
  op: 'added' | 'changed' | 'removed';
  value?: string;
  previous?: string;
}

export interface TraceStep {
  pipe: string;
  depth: number;
  index: number;
  valve: string;
  label: string;
  outcome: TraceOutcome;
  ms: number;
  /** Why it was skipped: which condition, and the condition as written. */
  reason?: string;
  condition?: unknown;
  code?: string;
  detail?: string;
  changes: TraceChange[];
}

export interface Trace {
  pipe: string;
  tenant: string;
  operation: string;
  requestId: string;
  /** The request as the pipe saw it, masked. */
  request: Record<string, string>;
  steps: TraceStep[];
  status?: number;
  code?: string;
  ms?: number;
}

export const MASK = '***';
const MIN_SECRET_LENGTH = 4;

interface Snapshot {
  items: Map<string, Props>;
  session: Props;
}

interface Frame {
  step: CompiledStep;
  slot: number;
  before: Snapshot;
}

export class TraceRecorder implements RunObserver {
  private readonly steps: TraceStep[] = [];
  private readonly frames: Frame[] = [];
  private readonly secretValues = new Set<string>();
  private request: Record<string, string> = {};
  private head: Pick<Trace, 'pipe' | 'tenant' | 'operation' | 'requestId'> | undefined;
  private readonly started = performance.now();

  /**
   * `inner` keeps watching too (metrics), so tracing a call does not hide it from them.
   * `redact` is the config's SecretLedger: a value a `${…}` reference resolved to (a valve
   * config's value copied into a property, a condition, an error detail) shows as the reference.
   */
  constructor(
    private readonly inner?: RunObserver,
    private readonly redact: (text: string) => string = (text) => text,
  ) {}

  stepStart(pipe: CompiledPipe, step: CompiledStep, ctx: CallContext): void {
    this.begin(pipe, ctx);
    this.inner?.stepStart?.(pipe, step, ctx);
    const slot = this.steps.push(this.row(pipe, step, 'ran', 0)) - 1;
    this.frames.push({ step, slot, before: this.snapshot(ctx) });
  }

  stepEnd(
    pipe: CompiledPipe,
    step: CompiledStep,
    ctx: CallContext,
    outcome: StepOutcome,
    ms: number,
    detail: { reason?: string; error?: AuthpipeError },
  ): void {
    this.begin(pipe, ctx);
    this.inner?.stepEnd(pipe, step, ctx, outcome, ms, detail);
    if (outcome === 'skipped') {
      const row = this.row(pipe, step, outcome, 0);
      if (detail.reason) row.reason = detail.reason;
      const which = detail.reason?.startsWith('skip_if') ? 'skip_if' : 'exec_if';
      const condition = step.conditionSource?.[which];
      if (condition !== undefined) row.condition = condition;
      this.steps.push(row);
      return;
    }
    // Frames left above this step's own belong to steps that ended by a nested failure.
    let frame = this.frames.pop();
    while (frame && frame.step !== step) {
      this.close(frame, ctx, 'failed-inside', undefined);
      frame = this.frames.pop();
    }
    if (!frame) return;
    const row = this.close(frame, ctx, outcome, detail.error);
    row.ms = round(ms);
  }

  /** Ends the trace: steps still open ended by a failure further down; records the answer. */
  finish(ctx: CallContext | undefined, status: number, error?: AuthpipeError): Trace {
    for (let frame = this.frames.pop(); frame; frame = this.frames.pop()) {
      if (ctx) this.close(frame, ctx, 'failed-inside', error);
    }
    // Masked at the end, once every secret value of the call is known.
    for (const row of this.steps) {
      for (const change of row.changes) {
        if (change.value !== undefined) change.value = this.mask(change.name, change.value);
        if (change.previous !== undefined) change.previous = this.mask(change.name, change.previous);
      }
      if (row.detail !== undefined) row.detail = this.redact(row.detail);
      if (row.condition !== undefined) row.condition = redactDeep(row.condition, this.redact);
    }
    const trace: Trace = {
      pipe: this.head?.pipe ?? '',
      tenant: this.head?.tenant ?? '',
      operation: this.head?.operation ?? '',
      requestId: this.head?.requestId ?? '',
      request: this.maskAll(this.request),
      steps: this.steps,
      status,
      ms: round(performance.now() - this.started),
    };
    if (error) trace.code = error.code;
    return trace;
  }

  private begin(pipe: CompiledPipe, ctx: CallContext): void {
    if (this.head) return;
    this.head = { pipe: pipe.id, tenant: ctx.tenant.id, operation: ctx.operation, requestId: ctx.requestId };
    this.learnSecrets(ctx.request);
    this.request = { ...ctx.request };
  }

  private row(pipe: CompiledPipe, step: CompiledStep, outcome: TraceOutcome, ms: number): TraceStep {
    return { pipe: pipe.id, depth: this.frames.length, index: step.index, valve: step.valve, label: step.label, outcome, ms, changes: [] };
  }

  private close(frame: Frame, ctx: CallContext, outcome: TraceOutcome, error: AuthpipeError | undefined): TraceStep {
    const row = this.steps[frame.slot] as TraceStep;
    row.outcome = outcome;
    if (error) {
      row.code = error.code;
      if (error.detail !== undefined) row.detail = error.detail;
    }
    row.changes = this.diff(frame.before, this.snapshot(ctx));
    return row;
  }

  private snapshot(ctx: CallContext): Snapshot {
    const items = new Map<string, Props>();
    for (const item of ctx.items) {
      items.set(item.id, { ...item.props });
      this.learnSecrets(item.props);
    }
    this.learnSecrets(ctx.session);
    return { items, session: { ...ctx.session } };
  }

  private diff(before: Snapshot, after: Snapshot): TraceChange[] {
    const changes: TraceChange[] = [];
    const single = before.items.size <= 1 && after.items.size <= 1;
    for (const [id, props] of after.items) {
      const old = before.items.get(id) ?? (single ? [...before.items.values()][0] : undefined);
      if (!old && !single) changes.push({ scope: 'flow', name: id, op: 'added' });
      this.diffProps(single ? 'item' : `item[${id}]`, old ?? {}, props, changes);
    }
    for (const id of before.items.keys()) {
      if (!after.items.has(id) && !single) changes.push({ scope: 'flow', name: id, op: 'removed' });
    }
    this.diffProps('session', before.session, after.session, changes);
    return changes;
  }

  private diffProps(scope: string, before: Props, after: Props, out: TraceChange[]): void {
    for (const name of Object.keys(after)) {
      const value = after[name] as string;
      if (!Object.prototype.hasOwnProperty.call(before, name)) out.push({ scope, name, op: 'added', value });
      else if (before[name] !== value) out.push({ scope, name, op: 'changed', value, previous: before[name] as string });
    }
    for (const name of Object.keys(before)) {
      if (!Object.prototype.hasOwnProperty.call(after, name)) out.push({ scope, name, op: 'removed' });
    }
  }

  private learnSecrets(props: Readonly<Props>): void {
    for (const name of Object.keys(props)) {
      const value = props[name] as string;
      if (isSecretName(name) && value.length >= MIN_SECRET_LENGTH) this.secretValues.add(value);
    }
  }

  private mask(name: string, value: string): string {
    return isSecretName(name) || this.secretValues.has(value) ? MASK : this.redact(value);
  }

  private maskAll(props: Readonly<Props>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of Object.keys(props)) out[name] = this.mask(name, props[name] as string);
    return out;
  }
}

/** Every string inside a JSON value passed through `redact` (a condition as written in the pipe). */
function redactDeep(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), redactDeep(v, redact)]));
  return value;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
