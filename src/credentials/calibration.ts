/**
 * What one password verification costs on this machine, per hash cost profile, measured once
 * when the process starts (before it serves) and never again: the failure floor and the
 * refusal work derive from these figures only, so no timing taken under load (a burst of
 * unknown users queueing for the hash threads, a locked argon2id till) can move them.
 *
 * Each profile gets its CPU time (process.cpuUsage, which counts the pool threads too, so it
 * is not inflated by other processes on the machine) and its wall time. A profile that first
 * appears after start (a reload adding an imported hash) is not timed under load: its cost is
 * scaled from the measured profile of the same algorithm closest in work (scrypt N·r·p,
 * argon2id m·t, bcrypt 2^cost); small reference hashes of every algorithm are measured at
 * start so that such an estimate always has a base.
 *
 * Refusals cost the same CPU whatever hash they met: after a verification against a cheaper
 * profile, the verifying thread spends the difference on PBKDF2 (`verify`). The start
 * figures and wall times stay fixed; the CPU mark a refusal works up to follows what
 * verifications cost while serving (see `refusalCpuMs`).
 */
import { dummyLike, verifyAndPad, verifyPassword } from './hash.js';
import { HashThreads } from './hash-threads.js';
import { costProfile, parsePhc, type ParsedHash } from './phc.js';

export interface ProfileCost {
  readonly cpuMs: number;
  readonly wallMs: number;
  /** Timed at start (true) or scaled from a timed profile (false). */
  readonly measured: boolean;
}

/** Cheap hashes of each algorithm, timed at start as the base of later estimates. */
const REFERENCES = [
  '$scrypt$ln=11,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  '$argon2id$v=19$m=4096,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  '$2b$06$AAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.',
].map((phc) => {
  const parsed = parsePhc(phc);
  if (typeof parsed === 'string') throw new Error(`reference hash refused: ${parsed}`);
  return parsed;
});

const BURN_PROBE_ITERATIONS = 20_000;

function workUnits(hash: ParsedHash): number {
  switch (hash.algorithm) {
    case 'scrypt':
      return 2 ** hash.ln * hash.r * hash.p;
    case 'argon2id':
      return hash.m * hash.t;
    case 'bcrypt':
      return 2 ** hash.cost;
  }
}

async function pbkdf2(iterations: number, threads: HashThreads): Promise<void> {
  await threads.run({ op: 'pbkdf2', iterations });
}

async function timed(work: () => Promise<unknown>): Promise<{ cpuMs: number; wallMs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - started };
}

/** Three timings, the middle one of each figure: one busy moment neither inflates nor flatters it. */
async function measure(work: () => Promise<unknown>): Promise<{ cpuMs: number; wallMs: number }> {
  const runs = [await timed(work), await timed(work), await timed(work)];
  const middle = (values: number[]) => values.sort((a, b) => a - b)[1] as number;
  return { cpuMs: middle(runs.map((r) => r.cpuMs)), wallMs: middle(runs.map((r) => r.wallMs)) };
}

export class CostTable {
  private readonly costs = new Map<string, ProfileCost & { units: number; algorithm: string }>();
  /** Each profile's running CPU figure from the verifications served, by its thread's clock. */
  private readonly live = new Map<string, number>();
  private burnCpuMsPerIteration = 0;
  private running: Promise<void> = Promise.resolve();
  private calibratedOnce = false;

  /** Whether `calibrate` has finished at least once. */
  get calibrated(): boolean {
    return this.calibratedOnce;
  }

  /**
   * Times, one after the other, the references, the PBKDF2 burn and every profile among
   * `hashes` not timed yet. Meant for start, before serving; concurrent calls queue.
   */
  calibrate(hashes: Iterable<ParsedHash>): Promise<void> {
    const wanted = [...REFERENCES, ...hashes];
    this.running = this.running.then(async () => {
      // Timed on a thread of normal priority, not on the low-priority hash threads: what is
      // measured is a hash's cost on this machine, and a start on a busy machine (tests beside
      // it, a rolling restart) would otherwise time the wait for spare CPU and set a floor
      // far above it. Serving then runs the same work at low priority.
      const threads = new HashThreads(1, 0);
      try {
        if (this.burnCpuMsPerIteration === 0) {
          const probe = await measure(() => pbkdf2(BURN_PROBE_ITERATIONS, threads));
          this.burnCpuMsPerIteration = Math.max(probe.cpuMs, 0.01) / BURN_PROBE_ITERATIONS;
        }
        for (const hash of wanted) {
          const profile = costProfile(hash);
          if (this.costs.get(profile)?.measured) continue;
          const dummy = dummyLike(hash);
          const cost = await measure(() => verifyPassword('', dummy, threads));
          this.costs.set(profile, { ...cost, measured: true, units: workUnits(hash), algorithm: hash.algorithm });
        }
        this.calibratedOnce = true;
      } finally {
        await threads.close();
      }
    });
    return this.running;
  }

  /** Resolves when every calibration asked for so far has finished. */
  settled(): Promise<void> {
    return this.running;
  }

  /**
   * The cost of a profile: timed, or scaled from the timed profile of the same algorithm
   * closest in work (remembered, so the table's slowest profile includes it from now on).
   */
  costOf(hash: ParsedHash): ProfileCost {
    const profile = costProfile(hash);
    const known = this.costs.get(profile);
    if (known) return known;
    const units = workUnits(hash);
    let base: (ProfileCost & { units: number }) | undefined;
    for (const cost of this.costs.values()) {
      if (cost.algorithm !== hash.algorithm || !cost.measured) continue;
      if (!base || Math.abs(Math.log(cost.units / units)) < Math.abs(Math.log(base.units / units))) base = cost;
    }
    // Not calibrated yet (a call before start finished): no estimate, no padding beyond it.
    if (!base) return { cpuMs: 0, wallMs: 0, measured: false };
    const scale = units / base.units;
    const estimate = { cpuMs: base.cpuMs * scale, wallMs: base.wallMs * scale, measured: false, units, algorithm: hash.algorithm };
    this.costs.set(profile, estimate);
    return estimate;
  }

  /** The dearest profile this process knows: every refusal costs this much. */
  slowest(): ProfileCost {
    let cpuMs = 0;
    let wallMs = 0;
    for (const cost of this.costs.values()) {
      cpuMs = Math.max(cpuMs, cost.cpuMs);
      wallMs = Math.max(wallMs, cost.wallMs);
    }
    return { cpuMs, wallMs, measured: true };
  }

  /**
   * The CPU every refusal costs its hash thread: the dearest profile's cost as verifications
   * show it now (each one updates its profile's running figure), the start figure for a
   * profile not verified since. It follows the machine: under other load, memory-hard hashes
   * slow down more than the PBKDF2 that pads the cheaper ones, and a mark fixed at start
   * would let refusals against cheap hashes cost visibly less. Never above twice the start
   * figure, so that load a caller makes cannot raise what each refusal costs without bound.
   */
  refusalCpuMs(): number {
    let mark = 0;
    for (const [profile, cost] of this.costs) mark = Math.max(mark, this.live.get(profile) ?? cost.cpuMs);
    return Math.min(mark, 2 * this.slowest().cpuMs);
  }

  /**
   * Verifies `password` against `hash` on a hash thread. When the answer refuses (no match, or
   * `refuseAnyway`: a locked or disabled account), the same thread then works until it has
   * spent `refusalCpuMs()` on the job, so every refusal costs the same CPU whatever hash it
   * met. Without a thread CPU clock (not Linux), the padding is PBKDF2 iterations for the
   * difference between the profiles' start figures.
   */
  async verify(password: string, hash: ParsedHash, refuseAnyway = false): Promise<boolean> {
    const mark = this.refusalCpuMs();
    const shortfall = mark - this.costOf(hash).cpuMs;
    const iterations = shortfall > 1 && this.burnCpuMsPerIteration > 0 ? Math.round(shortfall / this.burnCpuMsPerIteration) : 0;
    const verified = await verifyAndPad(password, hash, { cpuMs: mark, iterations, evenOnMatch: refuseAnyway });
    if (verified.cpuMs >= 0) this.learn(costProfile(hash), verified.cpuMs);
    return verified.matches;
  }

  /** One verification's CPU into its profile's running figure (a fifth of the way towards it). */
  private learn(profile: string, cpuMs: number): void {
    const before = this.live.get(profile) ?? this.costs.get(profile)?.cpuMs ?? cpuMs;
    this.live.set(profile, before + (cpuMs - before) / 5);
  }
}

/** The table of this process: what a hash costs is a property of the machine, not of a config. */
export const passwordCosts = new CostTable();
