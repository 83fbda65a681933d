/**
 * The OTP delivery queue: otp-issue answers at once, for a known recipient and for an unknown
 * one alike, after pushing one job to a list in the store (a decoy job for an unknown one, so
 * the store work is the same too); a worker in every engine process pops jobs and hands them
 * to the sender, off the caller's time. So neither the answer nor its timing tells whether a
 * code went out, or whether the sender is slow, failing or redirecting.
 *
 * Jobs live in the shared store (a Redis list, or memory), one list per sender config (keyed
 * by a digest of its whole config: type, file or URL, a digest of its secret, timeout and
 * retry policy; the secret itself never appears): any process with the same sender config may
 * deliver what another queued, and each job is popped by exactly one. So a job always goes out
 * with the sender config that queued it: a config with another secret queues to another list.
 * Each loaded config has its own workers (OtpDeliveries, owned by the config's runtime): none
 * runs for a read-only load, and a retired config's workers stop. A job a retired config left queued
 * (a retry not yet due) waits for a process that still runs that sender config, or expires. A failed delivery is retried with a growing
 * backoff (`retries`, `backoff_ms` of the sender config) while the error may pass (network,
 * timeout, 408, 429, 5xx); a final one (a redirect, another 4xx, retries spent, or the code
 * expired while waiting) moves the job, without its code, to the dead-letter list (the newest
 * 1,000 kept), counts `authpipe_otp_deliveries_total{result="failed"}` and writes an
 * `otp.delivery_failed` audit event. Decoys are dropped by the worker without a trace.
 *
 * A job waits in the store with its code in clear until delivered (normally milliseconds) or
 * expired (the code's TTL): the same exposure as the sender's own queue.
 *
 * Delivery is at least once. A worker takes a job by moving it, atomically, to the queue's
 * in-flight list, and sets a lease (a key with a TTL) on it before sending; the job leaves the in-flight list
 * only once it is delivered, requeued for a retry or dead-lettered. Every worker sweeps the
 * in-flight list now and then: a job seen there without a lease on two sweeps RECOVER_AFTER_MS
 * apart belonged to a process that died mid-delivery, and goes back to the queue. A code may
 * then reach the user twice; it is never lost.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Audit } from '../engine/audit.js';
import type { Clock } from '../engine/clock.js';
import type { Metrics } from '../engine/metrics.js';
import type { Store } from '../store/store.js';
import type { OtpChannel, OtpSender } from './senders/index.js';

export interface DeliveryJob {
  v: 1;
  tenant: string;
  /** Directory user id, for the audit event ('' for a bare recipient). */
  user: string;
  recipient: string;
  channel: OtpChannel;
  code: string;
  transaction_id: string;
  at: string;
  /** When the code expires (ms since the epoch): past it, delivering is pointless. */
  expires: number;
  /** Attempts made so far, and when the next may start. */
  attempt: number;
  due: number;
  /** A stand-in for an unknown recipient: same push, never delivered. */
  decoy?: true;
}

export interface RetryPolicy {
  retries: number;
  backoffMs: number;
  /** Deliveries in flight at once (default DEFAULT_CONCURRENCY). */
  concurrency?: number;
}

/** Deliveries a worker keeps going at once, unless its sender says otherwise (a webhook's `concurrency`). */
export const DEFAULT_CONCURRENCY = 8;

export interface DeliveryRuntime {
  log: Logger;
  clock: Clock;
  metrics?: Metrics | undefined;
  audit?: Audit | undefined;
}

/**
 * Deliveries start on the worker's own beat, or as soon as one of its deliveries ends, never
 * from the call that queued them: work done right after a known recipient's answer would be a
 * timing signal of its own. Starting only on the beat capped a worker at its concurrency a
 * beat (8 a beat: 160 a second) however fast the sender: a burst of starts then queued faster than it
 * drained, and codes expired in the queue (measured in the bench's OTP round trip: a backlog
 * of minutes after a few rounds, over 100,000 codes dead-lettered unsent).
 */
const POLL_MS = 50;
const DEAD_LETTERS_KEPT = 1000;
/** Longer than any send may take (a webhook's timeout and its redirects): a live worker's lease never runs out. */
const LEASE_MS = 60_000;
/** How often the in-flight list is swept, and how long a job must stay there unleased before it is requeued. */
const SWEEP_MS = 5_000;
const RECOVER_AFTER_MS = 5_000;
const SWEPT_AT_ONCE = 100;

export interface RecoveryTimings {
  sweepMs: number;
  recoverAfterMs: number;
}

/** A stable id of a sender config (its parts; a secret enters only as a digest, see otp/senders/index.ts). */
export function senderId(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

export function queueKey(id: string): string {
  return `authpipe:otp-delivery:{${id}}:queue`;
}

/** Jobs taken by a worker and not yet done with (same hash tag as the queue: one Redis Cluster slot). */
export function inFlightKey(id: string): string {
  return `authpipe:otp-delivery:{${id}}:in-flight`;
}

/** The lease a worker holds on a job it took (keyed by the job's text: each text is one job). */
export function leaseKey(id: string, text: string): string {
  return `authpipe:otp-delivery:{${id}}:lease:${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`;
}

export function deadLetterKey(id: string): string {
  return `authpipe:otp-delivery:{${id}}:dead`;
}

/** Whether the sender's error may pass on a later attempt (a webhook says so; anything else may). */
function retryable(err: unknown): boolean {
  return !(err !== null && typeof err === 'object' && 'retryable' in err && (err as { retryable: unknown }).retryable === false);
}

export class DeliveryQueue {
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private draining = false;
  /** A drain was asked for while one ran: that one runs once more when it ends. */
  private again = false;
  /** The last pass stopped at the concurrency with jobs left. */
  private capped = false;
  /** Deliveries in flight at once: the most any valve sharing this queue asked for. */
  private concurrency: number;
  private stopped = false;
  private readonly running = new Set<Promise<void>>();
  /** In-flight jobs seen without a lease, and when first seen so. */
  private readonly unleased = new Map<string, number>();
  private lastSweep = 0;

  constructor(
    private readonly store: Store,
    readonly id: string,
    private readonly sender: OtpSender,
    private readonly policy: RetryPolicy,
    private readonly runtime: DeliveryRuntime,
    private readonly recovery: RecoveryTimings = { sweepMs: SWEEP_MS, recoverAfterMs: RECOVER_AFTER_MS },
  ) {
    this.concurrency = policy.concurrency ?? DEFAULT_CONCURRENCY;
  }

  async enqueue(job: DeliveryJob): Promise<void> {
    await this.store.listPush(queueKey(this.id), JSON.stringify(job));
    this.start();
  }

  /** Polls the queue (jobs another process queued, retries coming due) until stopped. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.drain(), POLL_MS);
    this.timer.unref();
  }

  /** Stops polling, waits for the deliveries in flight, then releases the sender (a webhook's sockets). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.running]);
    this.sender.close?.();
  }

  /** Lets this worker keep `n` deliveries going at once, if that is more than it does now. */
  allow(n: number): void {
    this.concurrency = Math.max(this.concurrency, n);
  }

  /** Pops what is there (at most one pass over the queue), delivering up to `concurrency` at once. */
  private async drain(): Promise<void> {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    try {
      const key = queueKey(this.id);
      const taken = inFlightKey(this.id);
      if (this.runtime.clock.now() - this.lastSweep >= this.recovery.sweepMs) await this.sweep();
      let budget = await this.store.listLength(key);
      this.capped = false;
      while (budget > 0 && !this.stopped) {
        if (this.inFlight >= this.concurrency) {
          this.capped = true;
          break;
        }
        budget--;
        const text = await this.store.listMove(key, taken);
        if (text === null) break;
        const job = JSON.parse(text) as DeliveryJob;
        // Dropped or put back at once, these need no lease: a sweep requeues only a job it saw
        // unleased on two sweeps apart, and a decoy requeued by a crash is dropped again.
        if (job.decoy) {
          await this.store.listRemove(taken, text);
          continue;
        }
        if (job.due > this.runtime.clock.now()) {
          await this.store.listPush(key, text); // not yet: back to the end of the line
          await this.store.listRemove(taken, text);
          continue;
        }
        await this.store.set(leaseKey(this.id, text), '1', LEASE_MS);
        this.inFlight++;
        const delivery = this.deliver(job)
          .then(() => this.done(text))
          .catch((err: unknown) =>
            this.runtime.log.warn({ err, queue: this.id }, 'otp delivery: a taken job could not be finished; a sweep will requeue it'),
          )
          .finally(() => {
            this.inFlight--;
            this.running.delete(delivery);
            // A slot is free and jobs were left for want of one: the next need not wait for the
            // beat. (A pass that went through the whole queue, retries not yet due, waits for it.)
            if (this.capped) void this.drain();
          });
        this.running.add(delivery);
      }
    } catch (err) {
      this.runtime.log.warn({ err, queue: this.id }, 'otp delivery queue unreachable; retrying');
    } finally {
      this.draining = false;
      if (this.again) {
        this.again = false;
        void this.drain();
      }
    }
  }

  /** A delivered job is finished with (delivered, requeued for a retry or dead-lettered): off the in-flight list, lease gone. */
  private async done(text: string): Promise<void> {
    await this.store.listRemove(inFlightKey(this.id), text);
    await this.store.del(leaseKey(this.id, text));
  }

  /**
   * Requeues the in-flight jobs whose taker died: those seen without a lease on two sweeps at
   * least `recoverAfterMs` apart (a live taker sets its lease right after taking the job).
   */
  private async sweep(): Promise<void> {
    const now = this.runtime.clock.now();
    this.lastSweep = now;
    const texts = await this.store.listRange(inFlightKey(this.id), SWEPT_AT_ONCE);
    const seen = new Set(texts);
    for (const text of this.unleased.keys()) if (!seen.has(text)) this.unleased.delete(text);
    for (const text of texts) {
      if ((await this.store.get(leaseKey(this.id, text))) !== null) {
        this.unleased.delete(text);
        continue;
      }
      const since = this.unleased.get(text);
      if (since === undefined) {
        this.unleased.set(text, now);
        continue;
      }
      if (now - since < this.recovery.recoverAfterMs) continue;
      this.unleased.delete(text);
      // Of several sweepers, the one whose remove succeeds requeues it.
      if (await this.store.listRemove(inFlightKey(this.id), text)) {
        await this.store.listPush(queueKey(this.id), text);
        this.runtime.log.warn({ queue: this.id }, 'otp delivery: requeued a job whose worker stopped before finishing it');
      }
    }
  }

  private async deliver(job: DeliveryJob): Promise<void> {
    const { log, clock, metrics } = this.runtime;
    const labels = { tenant: job.tenant, channel: job.channel };
    if (job.expires <= clock.now()) return this.fail(job, 'the code expired before it could be delivered');
    try {
      await this.sender.send(
        {
          tenant: job.tenant,
          recipient: job.recipient,
          channel: job.channel,
          code: job.code,
          transaction_id: job.transaction_id,
          at: job.at,
        },
        log,
      );
      metrics?.inc('otp_deliveries', { ...labels, result: 'delivered' });
    } catch (err) {
      const problem = err instanceof Error ? err.message : String(err);
      const attempt = job.attempt + 1;
      if (retryable(err) && attempt <= this.policy.retries) {
        metrics?.inc('otp_deliveries', { ...labels, result: 'retried' });
        log.warn({ sender: this.sender.type, queue: this.id, attempt, problem }, 'otp delivery failed; retrying');
        const retry: DeliveryJob = { ...job, attempt, due: clock.now() + this.policy.backoffMs * 2 ** (attempt - 1) };
        await this.store
          .listPush(queueKey(this.id), JSON.stringify(retry))
          .catch((pushErr: unknown) => log.error({ err: pushErr }, 'otp delivery retry lost: store unreachable'));
        return;
      }
      return this.fail({ ...job, attempt }, problem);
    }
  }

  private async fail(job: DeliveryJob, problem: string): Promise<void> {
    const { log, metrics, audit } = this.runtime;
    metrics?.inc('otp_deliveries', { tenant: job.tenant, channel: job.channel, result: 'failed' });
    log.error(
      { sender: this.sender.type, queue: this.id, attempts: job.attempt, problem, transaction: job.transaction_id.slice(0, 6) },
      'otp delivery failed for good; moved to the dead-letter list',
    );
    audit?.event('otp.delivery_failed', {
      tenant: job.tenant,
      subject: job.user,
      channel: job.channel,
      attempts: job.attempt,
      reason: problem,
    });
    const dead = {
      tenant: job.tenant,
      user: job.user,
      channel: job.channel,
      transaction_id: job.transaction_id,
      at: job.at,
      attempts: job.attempt,
      problem,
      failedAt: new Date(this.runtime.clock.now()).toISOString(),
    };
    await this.store.listPush(deadLetterKey(this.id), JSON.stringify(dead), DEAD_LETTERS_KEPT).catch(() => undefined);
  }
}

/** A built sender (otp/senders/index.ts): its id is a digest of its whole config. */
export interface SenderOfConfig {
  readonly id: string;
  readonly sender: OtpSender;
  readonly retries: number;
  readonly backoffMs: number;
  /** Deliveries in flight at once per process; not part of the id, so changing it keeps the queue (and what waits in it). */
  readonly concurrency: number;
}

/**
 * The delivery queues of one loaded config, one per distinct sender config (type, target,
 * secret, timeout, retry policy: the sender's id), each with its own worker. The config owns
 * it (`ctx.own` / `tools.own`): no worker polls before the config is started, which a
 * read-only load never is, and every worker stops when the config retires. A queue is never
 * shared with another config nor updated by one, so a config that was never applied cannot
 * change what the live one sends with.
 */
export class OtpDeliveries {
  private readonly queues = new Map<string, DeliveryQueue>();
  private started = false;
  private closed = false;

  constructor(private readonly recovery?: RecoveryTimings) {}

  /** The queue of this sender config, made on first use (two valves with the same sender config share it). */
  queue(built: SenderOfConfig, store: Store, runtime: DeliveryRuntime): DeliveryQueue {
    let queue = this.queues.get(built.id);
    if (!queue) {
      queue = new DeliveryQueue(
        store,
        built.id,
        built.sender,
        { retries: built.retries, backoffMs: built.backoffMs, concurrency: built.concurrency },
        runtime,
        this.recovery,
      );
      this.queues.set(built.id, queue);
      if (this.started && !this.closed) queue.start();
    }
    queue.allow(built.concurrency);
    return queue;
  }

  /** Starts every worker (the config is about to serve): each also delivers what other processes queued. */
  start(): void {
    if (this.closed) return;
    this.started = true;
    for (const queue of this.queues.values()) queue.start();
  }

  /** Stops every worker and waits for the deliveries in flight (the config retired, or the app closes). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.queues.values()].map((q) => q.stop()));
  }
}
