/**
 * The credential check every password-verifying valve shares (basic-auth today; the LDAP and
 * HTTP sources of idp-lookup, totp-verify and the OIDC login steps through the same pieces).
 * Enforces, for every refusal (unknown user, disabled account, locked account with a right,
 * cached or wrong password, wrong password against any hash algorithm):
 * - the same work: one verification (against the account's hash, or a dummy of the tenant's
 *   common profile for an unknown user), then PBKDF2 on the same thread until it has spent
 *   what the dearest profile of the process costs (calibration.ts), so the CPU a refusal
 *   costs, as /metrics shows it, is the same whichever hash it met;
 * - the same wall time: every refusal answers no sooner than the failure floor, a fixed figure
 *   derived at start from the calibrated profiles (or configured), never from timings under
 *   load, so nothing a caller sends can move it;
 * - the same sharing: identical parallel requests (tenant, kind, user, password) share one
 *   check in every case, so a burst of 16 costs one check whether the account exists or not;
 * - a budget (budget.ts): cold checks queue for a bounded number of slots, and a full queue
 *   refuses at once with RATE_LIMITED for everyone alike. Cached successes skip the queue.
 * Lockout (lockout.ts) reserves its attempt inside the shared check, so a burst takes one.
 */
import { AuthpipeError } from '../errors.js';
import { callFields } from '../engine/audit.js';
import type { CallContext } from '../engine/valve.js';
import { passwordBudget, type BudgetSettings, type CheckBudget } from './budget.js';
import { passwordCosts, type CostTable } from './calibration.js';
import { PASSWORD_CHECKS_DEFAULTS } from './feature.js';
import { hashThreads } from './hash-threads.js';
import type { Lockout } from './lockout.js';
import type { ParsedHash } from './phc.js';
import { verifiedCredentials, type VerifiedCache } from './verified-cache.js';

export interface FloorSettings {
  /** A fixed floor in ms; 0: derived from calibration only. The larger of the two applies. */
  fixedMs: number;
  /** The calibrated floor is this times the wall time of the dearest profile. */
  margin: number;
}

const DEFAULT_FLOOR: FloorSettings = { fixedMs: PASSWORD_CHECKS_DEFAULTS.failure_floor_ms, margin: PASSWORD_CHECKS_DEFAULTS.floor_margin };

let floorSettings: FloorSettings = DEFAULT_FLOOR;

/** Settings read once, at start (main file `password_checks`). */
export function configurePasswordChecks(
  settings: Partial<BudgetSettings> & FloorSettings & { nice: number; idleClass?: boolean },
  budget: CheckBudget = passwordBudget,
): void {
  floorSettings = { fixedMs: settings.fixedMs, margin: settings.margin };
  const current = { concurrency: settings.concurrency, queue: settings.queue };
  if (current.concurrency !== undefined || current.queue !== undefined) {
    const concurrency = current.concurrency ?? budget.settingsNow().concurrency;
    budget.configure({ concurrency, queue: current.queue ?? 4 * concurrency });
  }
  // One hash thread per budget slot: the budget decides how many hash at once, the threads run them.
  if (budget === passwordBudget) hashThreads.configure(budget.settingsNow().concurrency, settings.nice, settings.idleClass);
}

/** The wall time every refusal takes at least, in ms. */
export function failureFloorMs(costs: CostTable = passwordCosts): number {
  return Math.max(floorSettings.fixedMs, floorSettings.margin * costs.slowest().wallMs);
}

/** Waits until `floorMs` have passed since `startedAt` (performance.now()). */
export async function padTo(startedAt: number, floorMs: number): Promise<void> {
  const wait = floorMs - (performance.now() - startedAt);
  if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
}

interface CheckedAccount {
  readonly hash: ParsedHash;
  readonly active: boolean;
}

export interface CheckRequest {
  /** Namespace of the user name (till, client, user): part of the cache and sharing keys. */
  readonly kind: string;
  readonly username: string;
  /** Already normalised (NFC). */
  readonly password: string;
  /** Undefined: nobody by that name. */
  readonly account: CheckedAccount | undefined;
  /** What an unknown user is verified against: a hash of the profile a real one would have. */
  readonly dummy: ParsedHash;
  /** Where failures count towards a lock (account, or client and source address); null: no lockout. */
  readonly lockoutKey: string | null;
  /**
   * Checks with a different tag never share a flight or a cached success, even for the same
   * name and password (an account refused for a pool it is not in must not share the verdict
   * of the same account signing in to its own pool at that moment).
   */
  readonly apart?: string | undefined;
}

export type CheckVerdict = { ok: true } | { ok: false; reason: string; lockedForMs: number | null };

const OK: CheckVerdict = Object.freeze({ ok: true });

export interface PasswordCheckOptions {
  lockout: Lockout | null;
  cacheTtlMs: number;
  cache?: VerifiedCache;
  budget?: CheckBudget;
  costs?: CostTable;
}

export class PasswordCheck {
  private readonly flights = new Map<string, Promise<CheckVerdict>>();
  private readonly cache: VerifiedCache;
  private readonly budget: CheckBudget;
  private readonly costs: CostTable;

  constructor(private readonly options: PasswordCheckOptions) {
    this.cache = options.cache ?? verifiedCredentials;
    this.budget = options.budget ?? passwordBudget;
    this.costs = options.costs ?? passwordCosts;
  }

  get lockout(): Lockout | null {
    return this.options.lockout;
  }

  /**
   * Checks the password: the verdict at once for a credential verified a moment ago on a store
   * that answers at once (the hot path, without a promise), else a promise of it (a refusal
   * only after the floor). Throws (or rejects with) RATE_LIMITED when the budget's queue is
   * full, and store faults as they come.
   */
  check(ctx: CallContext, req: CheckRequest): CheckVerdict | Promise<CheckVerdict> {
    const started = performance.now();
    const tenant = ctx.tenant.id;
    const account = req.account;
    const key = this.cache.keyOf(
      tenant,
      req.apart ? `${req.kind}|${req.apart}` : req.kind,
      req.username,
      req.password,
      account?.hash.phc ?? '',
    );
    const lockout = this.options.lockout;

    // Hot path: a credential verified a moment ago. The lock is still read on every call; a
    // locked account goes the cold way, to be refused after the same work as any refusal.
    if (account?.active && this.options.cacheTtlMs > 0 && this.cache.has(key, ctx.clock.now())) {
      if (lockout === null || req.lockoutKey === null) return OK;
      const locked = lockout.isLocked(ctx.store, req.lockoutKey);
      if (locked === false) return OK;
      if (locked !== true) return locked.then((isLocked) => (isLocked ? this.checked(ctx, req, key, started) : OK));
    }
    return this.checked(ctx, req, key, started);
  }

  /** The check shared by every identical request in flight, and the floor under a refusal. */
  private async checked(ctx: CallContext, req: CheckRequest, key: string, started: number): Promise<CheckVerdict> {
    let flight = this.flights.get(key);
    if (!flight) {
      flight = this.cold(ctx, req, key);
      this.flights.set(key, flight);
      const landed = () => this.flights.delete(key);
      flight.then(landed, landed);
    }
    const verdict = await flight;
    if (!verdict.ok) await padTo(started, failureFloorMs(this.costs));
    return verdict;
  }

  /** One check for every identical request in flight: budget slot, lockout attempt, verification, refusal work. */
  private async cold(ctx: CallContext, req: CheckRequest, key: string): Promise<CheckVerdict> {
    if (!this.costs.calibrated) await this.costs.calibrate([req.dummy, ...(req.account ? [req.account.hash] : [])]);
    const release = await this.budget.acquire();
    try {
      const lockout = this.options.lockout;
      const lockoutKey = lockout === null ? null : req.lockoutKey;
      let attempt = 0;
      let locked = false;
      if (lockout && lockoutKey !== null) {
        const reservation = await lockout.reserve(ctx.store, lockoutKey);
        if (reservation.ok) attempt = reservation.attempt;
        else locked = true;
      }
      const against = req.account?.hash ?? req.dummy;
      // A locked or disabled account is verified too, the answer not looked at, and padded
      // like every refusal: the same work whatever the reason.
      const refused = locked || !req.account?.active;
      const matches = await this.costs.verify(req.password, against, refused);
      if (matches && !refused) {
        if (lockout && lockoutKey !== null) await lockout.succeeded(ctx.store, lockoutKey);
        this.cache.remember(key, ctx.clock.now(), this.options.cacheTtlMs);
        return { ok: true };
      }
      if (locked) return { ok: false, reason: 'account locked', lockedForMs: null };
      const lockedForMs = lockout && lockoutKey !== null ? await lockout.failed(ctx.store, lockoutKey, attempt) : null;
      if (lockedForMs !== null) {
        ctx.services.metrics?.inc('lockouts', { tenant: ctx.tenant.id });
        ctx.services.audit?.event(
          'account.lockout',
          callFields(ctx, { subject: req.username, kind: req.kind, lockedSeconds: lockedForMs / 1000 }),
        );
      }
      const reason = !req.account ? 'unknown user' : !req.account.active ? 'account disabled' : 'wrong password';
      return { ok: false, reason, lockedForMs };
    } finally {
      release();
    }
  }
}

/**
 * Lockout around a check done elsewhere (an LDAP bind, an HTTP adapter): refused while the
 * account is locked (`check` is not run, `locked()` supplies the refusal); a refusal `check`
 * throws counts as a failure and may lock; a success resets the count; a fault counts nothing
 * (a down server is nobody's guess). Failures are counted after the check, not reserved
 * before it, so parallel logins with the right password all pass; parallel wrong guesses may
 * overshoot the threshold by the number in flight, which the per-address failure limit bounds.
 */
export async function withLockout<T>(
  ctx: CallContext,
  lockout: Lockout,
  account: string,
  subject: string,
  locked: () => AuthpipeError,
  check: () => Promise<T>,
): Promise<T> {
  if (await lockout.isLocked(ctx.store, account)) throw locked();
  let result: T;
  try {
    result = await check();
  } catch (err) {
    if (err instanceof AuthpipeError && err.isRefusal) {
      const lockedForMs = await lockout.countFailure(ctx.store, account);
      if (lockedForMs !== null) {
        ctx.services.metrics?.inc('lockouts', { tenant: ctx.tenant.id });
        ctx.services.audit?.event('account.lockout', callFields(ctx, { subject, kind: 'user', lockedSeconds: lockedForMs / 1000 }));
      }
    }
    throw err;
  }
  await lockout.succeeded(ctx.store, account);
  return result;
}
