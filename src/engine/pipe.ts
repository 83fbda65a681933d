import type { Condition } from './condition.js';
import type { ValveRun } from './valve.js';

/** A pipe as the runner sees it: compiled once at load, immutable afterwards. */
export interface CompiledStep {
  /** Position in the pipe file, for traces and logs. */
  readonly index: number;
  /** The valve type name. */
  readonly valve: string;
  /** The optional `id` the admin gave this step, else `<index>:<valve>`. */
  readonly label: string;
  readonly run: ValveRun;
  readonly execIf: Condition | null;
  readonly skipIf: Condition | null;
  readonly proceedOnError: boolean;
  /** The exec_if / skip_if expressions as written, for traces that say why a step was skipped. */
  readonly conditionSource?: { readonly exec_if?: unknown; readonly skip_if?: unknown };
}

export interface CompiledPipe {
  readonly id: string;
  readonly description: string;
  readonly file: string;
  readonly steps: readonly CompiledStep[];
  /** Item properties returned on 200; nothing else leaves the engine. */
  readonly response: readonly string[];
}
