import type { ConfigIssue } from '../config-kit/issues.js';
import type { LoadedConfig } from './load.js';

/** Why the files on disk are not what is serving: the last refused reload, until one succeeds. */
export interface ReloadFailure {
  readonly at: string;
  readonly issues: readonly ConfigIssue[];
}

/**
 * The active configuration. A call reads `current` once when it starts and keeps that
 * object to the end, so a swap never changes a call in flight.
 */
export class ConfigHolder {
  private failure: ReloadFailure | null = null;
  private swappedAt = new Date().toISOString();

  constructor(private active: LoadedConfig) {}

  get current(): LoadedConfig {
    return this.active;
  }

  /** When the active config was swapped in (or first loaded). */
  get loadedAt(): string {
    return this.swappedAt;
  }

  /** The last refused reload since the last good one, or null. */
  get lastError(): ReloadFailure | null {
    return this.failure;
  }

  swap(next: LoadedConfig): LoadedConfig {
    const previous = this.active;
    this.active = next;
    this.swappedAt = new Date().toISOString();
    this.failure = null;
    return previous;
  }

  /** The files on disk load again and are what serves (a bad edit was undone). */
  clearError(): void {
    this.failure = null;
  }

  /** Records a refused reload; the active config stays. */
  refused(issues: readonly ConfigIssue[]): void {
    this.failure = { at: new Date().toISOString(), issues };
  }
}
