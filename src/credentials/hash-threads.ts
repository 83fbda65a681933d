/**
 * The threads that do cold password work: scrypt, argon2id and bcrypt verifications, new
 * scrypt hashes and the PBKDF2 burn. They are worker threads of their own, not libuv's pool,
 * so that each can run at the lowest CPU priority (nice 19 by default, `password_checks.nice`;
 * Linux's idle scheduling class on top with `password_checks.idle_class`):
 * when the cores are busy, the scheduler gives them only what the event loop, token signatures
 * and everything else at normal priority leave over. A spray of unknown usernames can then
 * keep every hash thread busy without taking CPU from cached logins, which never hash; when
 * the machine is idle, a hash runs as fast as before. Without this, N hash threads on N cores
 * take a fair share of every core from the event loop, and cached tills lose most of their
 * throughput to a spray of a few requests per second.
 *
 * The trade-off: on a machine saturated by normal-priority work, cold checks wait (the budget
 * bounds how many), and refusals then answer later than the failure floor; as every refusal
 * is a cold check, they still answer alike. Linux sets a thread's priority by its thread id
 * (read from /proc/thread-self); elsewhere the threads run at normal priority.
 *
 * One job per thread at a time; the pool grows to `size` threads as work comes and keeps them
 * (a thread holds no secret between jobs). An idle pool does not keep the process alive.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { defaultBudget } from './budget.js';
import { PASSWORD_CHECKS_DEFAULTS } from './feature.js';
import { workerExecArgv } from '../worker-exec-argv.js';

/** node:crypto's scrypt options, as a job carries them to its thread. */
export type ScryptOptions = { N: number; r: number; p: number; maxmem: number };

/** A password and the hash it is checked against, as a job carries them to its thread. */
export type VerifyTarget =
  | { algorithm: 'scrypt'; password: Uint8Array; salt: Uint8Array; digest: Uint8Array; options: ScryptOptions }
  | { algorithm: 'argon2id' | 'bcrypt'; phc: string; password: string };

/**
 * Refusal work done on the verifying thread right after a verification that refuses (or after
 * any verification, `evenOnMatch`): PBKDF2 until the thread has spent `cpuMs` of its own CPU
 * on the job, verification included, read from the thread's CPU clock; where the thread has
 * none, `iterations` of PBKDF2 instead.
 */
export type RefusalPad = { cpuMs: number; iterations: number; evenOnMatch: boolean };

/** A verification's answer and the CPU the verification alone cost its thread (-1: no thread clock). */
export type Verified = { matches: boolean; cpuMs: number };

export type HashJob =
  | { op: 'scrypt'; password: Uint8Array; salt: Uint8Array; keylen: number; options: ScryptOptions }
  | { op: 'verify'; target: VerifyTarget; pad: RefusalPad | null }
  | { op: 'pbkdf2'; iterations: number };

type Result<J extends HashJob> = J extends { op: 'scrypt' } ? Uint8Array : J extends { op: 'pbkdf2' } ? true : Verified;

// The worker is evaluated from this text rather than loaded from a file, so that it runs the
// same from dist/ and from the TypeScript sources under test. It needs only node's crypto and
// the two hash libraries, whose resolved paths it is given.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const argon2 = require(workerData.argon2);
const bcrypt = require(workerData.bcrypt);
const fs = require('node:fs');
let niced = false;
let tid = -1;
try {
  tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  if (workerData.nice !== 0) require('node:os').setPriority(tid, workerData.nice);
  niced = true;
} catch {}
// With password_checks.idle_class the thread also asks for Linux's idle scheduling class,
// which node cannot set itself (hence util-linux's chrt, once per thread); without chrt it
// stays at its nice value.
if (niced && workerData.idleClass) {
  try {
    require('node:child_process').execFileSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 2000 });
  } catch {}
}
// This thread's own CPU clock (ns on CPU, first field of its schedstat), read again at offset 0
// each time; -1 where there is none. The kernel brings it up to date at each scheduler tick,
// so a padded refusal overshoots its mark by less than one tick, alike for every refusal.
let clock = null;
try { clock = fs.openSync('/proc/thread-self/schedstat', 'r'); } catch {}
const clockText = Buffer.alloc(128);
function cpuNs() {
  if (clock === null) return -1;
  try {
    const n = fs.readSync(clock, clockText, 0, clockText.length, 0);
    const ns = Number(clockText.toString('latin1', 0, n).split(' ')[0]);
    return Number.isFinite(ns) ? ns : -1;
  } catch { return -1; }
}
function burn(iterations) { crypto.pbkdf2Sync('burn', 'authpipe', iterations, 32, 'sha256'); }
function matches(t) {
  switch (t.algorithm) {
    case 'scrypt': return crypto.timingSafeEqual(crypto.scryptSync(t.password, t.salt, t.digest.length, t.options), t.digest);
    case 'argon2id': return argon2.verifySync(t.phc, t.password);
    case 'bcrypt': return bcrypt.verifySync(t.password, t.phc);
    default: throw new Error('unknown hash algorithm ' + t.algorithm);
  }
}
function verify(job) {
  const started = cpuNs();
  const ok = matches(job.target);
  const verified = started < 0 ? -1 : cpuNs();
  const pad = job.pad;
  if (pad && (!ok || pad.evenOnMatch)) {
    if (verified < 0) { if (pad.iterations > 0) burn(pad.iterations); }
    // Small steps (a quarter of a millisecond or so) so that the thread stops close to the mark.
    // A clock that fails midway stops the burn rather than spinning.
    else {
      const until = started + pad.cpuMs * 1e6;
      for (let now = cpuNs(); now >= 0 && now < until; now = cpuNs()) burn(1000);
    }
  }
  return { matches: ok, cpuMs: verified < 0 ? -1 : (verified - started) / 1e6 };
}
parentPort.postMessage({ niced });
parentPort.on('message', ({ id, job }) => {
  try {
    let value;
    switch (job.op) {
      case 'scrypt': value = crypto.scryptSync(job.password, job.salt, job.keylen, job.options); break;
      case 'verify': value = verify(job); break;
      case 'pbkdf2': burn(job.iterations); value = true; break;
      default: throw new Error('unknown hash job ' + job.op);
    }
    parentPort.postMessage({ id, value });
  } catch (err) {
    parentPort.postMessage({ id, error: err && err.message ? err.message : String(err) });
  }
});
`;

const require = createRequire(import.meta.url);
const LIBRARIES = { argon2: require.resolve('@node-rs/argon2'), bcrypt: require.resolve('@node-rs/bcrypt') };

/** A thread's CPU priority: its nice value, and whether it also joins Linux's idle scheduling class. */
interface HashPriority {
  readonly nice: number;
  readonly idleClass: boolean;
}

interface Pending {
  id: number;
  job: HashJob;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

class HashThread {
  readonly worker: Worker;
  current: Pending | undefined;

  constructor(
    priority: HashPriority,
    private readonly onFree: (thread: HashThread) => void,
    private readonly onExit: (thread: HashThread) => void,
  ) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: workerExecArgv(),
      workerData: { ...LIBRARIES, nice: priority.nice, idleClass: priority.idleClass },
    });
    this.worker.on('message', (message: { id?: number; value?: unknown; error?: string }) => {
      const pending = this.current;
      if (message.id === undefined || !pending || pending.id !== message.id) return;
      this.current = undefined;
      this.worker.unref();
      if (message.error !== undefined) pending.reject(new Error(`password hash failed: ${message.error}`));
      else pending.resolve(message.value);
      this.onFree(this);
    });
    // A thread that dies (out of memory, a library fault) fails its job closed; the pool
    // starts another for the next one.
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`password hash thread exited (${code})`)));
    // After the listeners: adding a 'message' listener refs the worker again.
    this.worker.unref();
  }

  run(pending: Pending): void {
    this.current = pending;
    // Held while a job runs: a CLI awaiting a hash must not exit under it.
    this.worker.ref();
    this.worker.postMessage({ id: pending.id, job: pending.job });
  }

  private fail(err: Error): void {
    const pending = this.current;
    this.current = undefined;
    this.onExit(this);
    pending?.reject(err);
  }
}

export class HashThreads {
  private readonly threads = new Set<HashThread>();
  private readonly idle: HashThread[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 0;

  private priority: HashPriority;

  constructor(
    private size: number,
    nice: number,
    idleClass = false,
  ) {
    this.priority = { nice, idleClass };
  }

  /** Pool size and priority; threads of another priority are stopped, and later jobs start new ones. */
  configure(size: number, nice: number, idleClass = false): void {
    if (nice !== this.priority.nice || idleClass !== this.priority.idleClass) void this.close();
    this.size = size;
    this.priority = { nice, idleClass };
  }

  run<J extends HashJob>(job: J): Promise<Result<J>> {
    return new Promise<Result<J>>((resolve, reject) => {
      this.queue.push({ id: ++this.nextId, job, resolve: resolve as (value: unknown) => void, reject });
      this.dispatch();
    });
  }

  /** Stops every thread (tests; a process that exits needs nothing). */
  async close(): Promise<void> {
    const threads = [...this.threads];
    this.threads.clear();
    this.idle.length = 0;
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let thread = this.idle.pop();
      if (!thread && this.threads.size < this.size) {
        thread = new HashThread(
          this.priority,
          (free) => {
            if (this.threads.has(free)) this.idle.push(free);
            this.dispatch();
          },
          (gone) => {
            this.threads.delete(gone);
            const at = this.idle.indexOf(gone);
            if (at >= 0) this.idle.splice(at, 1);
            this.dispatch();
          },
        );
        this.threads.add(thread);
      }
      if (!thread) return;
      thread.run(this.queue.shift() as Pending);
    }
  }
}

/** The process's hash threads; `configurePasswordChecks` sets their number and priority at start. */
export const hashThreads = new HashThreads(defaultBudget().concurrency, PASSWORD_CHECKS_DEFAULTS.nice);
