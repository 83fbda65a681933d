import type { LoadedConfig } from './load.js';

/**
 * The active configuration. A call reads `current` once when it starts and keeps that
 * object to the end, so a swap never changes a call in flight.
 */
export class ConfigHolder {
  constructor(private active: LoadedConfig) {}

  get current(): LoadedConfig {
    return this.active;
  }

  swap(next: LoadedConfig): LoadedConfig {
    const previous = this.active;
    this.active = next;
    return previous;
  }
}
