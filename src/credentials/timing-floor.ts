/**
 * Makes every failed credential check take as long as the slowest verification seen, so
 * response time tells nothing about which account exists, which hash it has (an imported
 * argon2id or bcrypt hash verifies faster or slower than the scrypt dummy an unknown user
 * costs) or whether it is locked. It learns each hash profile's cost from real
 * verifications (a moving average), so it needs no calibration and follows the machine's load.
 *
 * One floor serves the whole process (`failureFloor`): what a hash costs is a property of the
 * machine, not of a valve or a config version, so it survives reloads. It is primed when a
 * valve is built: one dummy verification per cost profile not yet known, in the background,
 * so that even the first failure after start is padded (a cheap imported hash failing before
 * any scrypt had been seen used to answer early).
 */
import { dummyLike, verifyPassword } from './hash.js';
import { costProfile, type ParsedHash } from './phc.js';

const WEIGHT = 0.2;

export class TimingFloor {
  private readonly costMs = new Map<string, number>();

  observe(profile: string, ms: number): void {
    const previous = this.costMs.get(profile);
    this.costMs.set(profile, previous === undefined ? ms : previous * (1 - WEIGHT) + ms * WEIGHT);
  }

  knows(profile: string): boolean {
    return this.costMs.has(profile);
  }

  floorMs(): number {
    let floor = 0;
    for (const ms of this.costMs.values()) if (ms > floor) floor = ms;
    return floor;
  }

  /** Waits until `startedAt` (performance.now()) plus the floor. */
  async pad(startedAt: number): Promise<void> {
    const wait = this.floorMs() - (performance.now() - startedAt);
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** The floor of this process, shared by every basic-auth valve and every config load. */
export const failureFloor = new TimingFloor();

const priming = new Map<string, Promise<void>>();

/**
 * Learns, in the background, the cost of each profile among `hashes` the floor does not know
 * yet: one verification of a random hash of that profile (never of a real one). Resolves when
 * every priming verification started for these profiles has finished; callers need not wait.
 */
export function primeFailureFloor(hashes: Iterable<ParsedHash>, floor: TimingFloor = failureFloor): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const hash of hashes) {
    const profile = costProfile(hash);
    let running = priming.get(profile);
    if (!running && !floor.knows(profile)) {
      const started = performance.now();
      running = verifyPassword('', dummyLike(hash)).then(
        () => floor.observe(profile, performance.now() - started),
        () => {}, // a profile that cannot be verified here is learned (or refused) on first use
      );
      priming.set(profile, running);
      void running.finally(() => priming.delete(profile));
    }
    if (running) pending.push(running);
  }
  return Promise.all(pending).then(() => undefined);
}
