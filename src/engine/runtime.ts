/**
 * What a loaded config owns besides its pipes: delivery workers, timers, caches, anything
 * that must be released when no call uses that config any more. A load builds one runtime;
 * valves add to it through `tools.own`, features through `ctx.own` (src/config/feature.ts).
 * Nothing owned runs before `start`, which the loader calls only for a load that succeeded
 * and may serve (never for `validate`, an admin change's check, or a refused reload); `close`
 * (src/config/services.ts, closeConfigServices) releases everything once that config retires.
 */

/** Something a config holds open. `start` (optional) begins its work; `close` ends it and may wait for work in flight. */
export interface Resource {
  start?(): void;
  close(): void | Promise<void>;
}

export class ConfigRuntime {
  private readonly owned: Resource[] = [];
  private state: 'built' | 'started' | 'closed' = 'built';

  /** Holds `resource` until this config closes; started at once when the config already runs. */
  own<R extends Resource>(resource: R): R {
    if (this.state === 'closed') throw new Error('this config is closed: it can own nothing more');
    this.owned.push(resource);
    if (this.state === 'started') resource.start?.();
    return resource;
  }

  /** How many resources it holds (for tests and diagnostics). */
  get size(): number {
    return this.owned.length;
  }

  /** built: nothing runs yet (a read-only load stays so); started: it may serve; closed: retired. */
  get phase(): 'built' | 'started' | 'closed' {
    return this.state;
  }

  /** Starts every owned resource (a config about to serve); once only, and never after close. */
  start(): void {
    if (this.state !== 'built') return;
    this.state = 'started';
    for (const resource of this.owned) resource.start?.();
  }

  /** Closes every owned resource, newest first, each whatever the others do; once only. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    const problems: unknown[] = [];
    for (const resource of this.owned.splice(0).reverse()) {
      try {
        await resource.close();
      } catch (err) {
        problems.push(err);
      }
    }
    if (problems.length > 0) throw new AggregateError(problems, 'some resources of a retired config failed to close');
  }
}
