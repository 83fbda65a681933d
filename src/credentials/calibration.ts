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
 * profile, `burn` spends the difference on PBKDF2 (linear in its iteration count, on the
 * hash threads like the hashes), calibrated at start too.
 */
import { dummyLike, verifyPassword } from './hash.js';
import { HashThreads, hashThreads } from './hash-threads.js';
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

async function pbkdf2(iterations: number, threads: HashThreads = hashThreads): Promise<void> {
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

  /** Spends about `cpuMs` of CPU on the hash threads (nothing when 1 ms or less). */
  async burn(cpuMs: number): Promise<void> {
    if (cpuMs <= 1 || this.burnCpuMsPerIteration === 0) return;
    await pbkdf2(Math.max(1, Math.round(cpuMs / this.burnCpuMsPerIteration)));
  }
}

/** The table of this process: what a hash costs is a property of the machine, not of a config. */
export const passwordCosts = new CostTable();
