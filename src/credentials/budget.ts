/**
 * The budget of cold password checks: at most `concurrency` run at once (default: the number
 * of cores, so hashing never takes every core from the event loop, and libuv's pool keeps
 * threads free for token signatures), with at most `queue` more waiting their turn. A check
 * that finds the queue full is refused at once (RATE_LIMITED, Retry-After) whoever it is for,
 * so a spray of unknown users costs the machine a bounded share, not all of it. Cached logins
 * never come here, so they never wait behind cold checks.
 */
import { availableParallelism } from 'node:os';
import { refuse } from '../errors.js';

export interface BudgetSettings {
  concurrency: number;
  queue: number;
}

export function defaultBudget(): BudgetSettings {
  const concurrency = Math.max(1, availableParallelism());
  return { concurrency, queue: 4 * concurrency };
}

export class CheckBudget {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Checks refused because the queue was full (a metric reads it). */
  refused = 0;

  constructor(private settings: BudgetSettings = defaultBudget()) {}

  configure(settings: BudgetSettings): void {
    this.settings = settings;
  }

  settingsNow(): BudgetSettings {
    return { ...this.settings };
  }

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Waits for a slot and resolves with its release, or throws RATE_LIMITED at once when the
   * queue is full.
   */
  async acquire(): Promise<() => void> {
    if (this.running >= this.settings.concurrency) {
      if (this.waiting.length >= this.settings.queue) {
        this.refused++;
        throw refuse('RATE_LIMITED', { headers: { 'retry-after': '1' }, detail: 'password check budget exhausted (queue full)' });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next in line, so `running` never dips and overshoots.
      if (next) next();
      else this.running--;
    };
  }
}

/** The budget of this process: the cores are the process's, whichever pipe or tenant checks. */
export const passwordBudget = new CheckBudget();
