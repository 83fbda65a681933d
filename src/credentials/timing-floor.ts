/**
 * Makes every failed credential check take as long as the slowest verification seen, so
 * response time tells nothing about which account exists, which hash it has (an imported
 * argon2id or bcrypt hash verifies faster or slower than the scrypt dummy an unknown user
 * costs) or whether it is locked. It learns each hash profile's cost from real
 * verifications (a moving average), so it needs no calibration and follows the machine's load.
 */
const WEIGHT = 0.2;

export class TimingFloor {
  private readonly costMs = new Map<string, number>();

  observe(profile: string, ms: number): void {
    const previous = this.costMs.get(profile);
    this.costMs.set(profile, previous === undefined ? ms : previous * (1 - WEIGHT) + ms * WEIGHT);
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
