/**
 * Token signatures of the fast algorithms (ES256, EdDSA: tens of µs each) on two threads of
 * their own, in batches: the signatures asked for during one turn of the event loop (up to
 * eight) go to a thread as one message and come back as one. Signing each on libuv's thread
 * pool cost the event loop, per token, a job object, a wake-up of a pool thread (a futex
 * call) and a callback into JavaScript; a batch pays that once. Measured on a cached
 * till-login (bench/ab.js, 7 alternated rounds): 24% less event-loop CPU a call and 16% more
 * calls a second. The signatures are node:crypto's, as before; RSA keys (milliseconds a
 * signature) stay on the pool, where several sign at once.
 *
 * Threads start when signatures are asked for and leave after a few idle seconds (a thread
 * holds an isolate's worth of memory). Until one is running, signatures are made on libuv's
 * pool as before, so a signature never waits for a thread to start. A thread that dies fails
 * the signatures it held (a fault for those calls); the next ones start another. Threads do
 * not keep the process alive beyond the signatures they hold.
 */
import { sign as poolSign, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { workerExecArgv } from '../worker-exec-argv.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { sign } = require('node:crypto');
const keys = new Map();
parentPort.on('message', ({ batch, added, forget, jobs }) => {
  if (forget) { for (const id of forget) keys.delete(id); return; }
  for (const [id, digest, options] of added) keys.set(id, { digest, options });
  const signatures = [];
  for (const [keyId, input] of jobs) {
    try {
      const key = keys.get(keyId);
      signatures.push(sign(key.digest, Buffer.from(input, 'latin1'), key.options));
    } catch (err) {
      signatures.push(String(err && err.message ? err.message : err));
    }
  }
  parentPort.postMessage({ batch, signatures });
});
`;

type SignOptions = KeyObject | SignKeyObjectInput;

/** A thread that could not start is not started again for this long; the pool signs meanwhile. */
const START_BACKOFF_MS = 60_000;

/** A key as the threads know it: sent along with the first batch that needs it on each thread. */
interface SignKey {
  readonly id: number;
  readonly digest: string | null;
  readonly options: SignOptions;
}

/** `input`: the text to sign, ASCII (a JWS signing input); its bytes are its latin1 encoding. */
type Job = { key: SignKey; input: string; waiting: Waiting };

interface Waiting {
  resolve(signature: Buffer): void;
  reject(err: Error): void;
}

/** One signature of ASCII `input` on libuv's thread pool (RSA keys; fast keys while no thread runs), settling `waiting`. */
export function signOnPool(digest: string | null, input: string, options: SignOptions, waiting: Waiting): void {
  poolSign(digest, Buffer.from(input, 'latin1'), options, (err, signature) => (err ? waiting.reject(err) : waiting.resolve(signature)));
}

export interface SignThreadSettings {
  /** Threads at most: one signs a batch while another takes the next. */
  threads: number;
  /**
   * A batch goes out at the end of the turn, or sooner once this many wait: a larger batch
   * keeps its first token waiting for the last one's signature while the event loop idles.
   */
  maxBatch: number;
  /** A thread with nothing to sign for this long leaves. */
  idleMs: number;
}

const DEFAULTS: SignThreadSettings = { threads: 2, maxBatch: 8, idleMs: 5000 };

/** One worker and what it holds: the keys it knows, the batches it signs. */
class Thread {
  readonly worker: Worker;
  readonly known = new Set<number>();
  readonly inFlight = new Map<number, Waiting[]>();
  /** Running its code: batches go only to a ready thread. */
  ready = false;
  /** Gone before it ever ran. */
  diedStarting = false;
  private lastBatch = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private gone = false;

  constructor(
    private readonly idleMs: number,
    private readonly onGone: (thread: Thread) => void,
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: workerExecArgv() });
    this.worker.once('online', () => {
      this.ready = true;
      this.idleSince();
    });
    this.worker.on('message', ({ batch, signatures }: { batch: number; signatures: (Uint8Array | string)[] }) => {
      const waiting = this.inFlight.get(batch);
      if (!waiting) return;
      this.inFlight.delete(batch);
      if (this.inFlight.size === 0) {
        this.worker.unref();
        this.idleSince();
      }
      waiting.forEach((w, i) => {
        const signature = signatures[i];
        if (typeof signature === 'string' || signature === undefined) w.reject(new Error(`token signature failed: ${signature}`));
        else w.resolve(Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength));
      });
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`token signing thread exited (${code})`)));
    // After the listeners: adding a 'message' listener refs the worker again.
    this.worker.unref();
  }

  post(batch: number, added: [number, string | null, SignOptions][], jobs: Job[]): void {
    this.inFlight.set(
      batch,
      jobs.map((job) => job.waiting),
    );
    if (this.inFlight.size === 1) this.worker.ref();
    // The inputs go as strings, not Buffers: a small Buffer is a view of node's shared 8 KiB
    // pool, and posting a view copies its whole ArrayBuffer (measured: 4.2–5.8 µs of the main
    // thread a message with a pooled Buffer, 1.9–2.2 µs with the string).
    this.worker.postMessage({ batch, added, jobs: jobs.map((job) => [job.key.id, job.input]) });
  }

  /** Stops the thread; what it held fails. */
  stop(): Promise<number> {
    this.fail(new Error('token signing thread stopped'));
    return this.worker.terminate();
  }

  /** One timer per idle spell, not one per batch: it checks when the last batch ended. */
  private idleSince(): void {
    this.lastBatch = performance.now();
    if (this.idleTimer) return;
    const check = () => {
      const idle = performance.now() - this.lastBatch;
      if (this.inFlight.size > 0 || idle < this.idleMs) {
        this.idleTimer = setTimeout(check, this.inFlight.size > 0 ? this.idleMs : this.idleMs - idle);
        this.idleTimer.unref();
        return;
      }
      this.idleTimer = undefined;
      void this.stop();
    };
    this.idleTimer = setTimeout(check, this.idleMs);
    this.idleTimer.unref();
  }

  private fail(err: Error): void {
    if (this.gone) return;
    this.gone = true;
    this.diedStarting = !this.ready;
    this.ready = false;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.onGone(this);
    const lost = [...this.inFlight.values()].flat();
    this.inFlight.clear();
    for (const w of lost) w.reject(err);
  }
}

export class SignThreads {
  private threads: Thread[] = [];
  private nextKey = 0;
  private nextBatch = 0;
  private queued: Job[] = [];
  private noStartUntil = 0;
  private readonly settings: SignThreadSettings;
  // A key whose signer is gone (a reload replaced it) is forgotten by the threads too.
  private readonly keys = new FinalizationRegistry<number>((id) => {
    for (const thread of this.threads) {
      if (thread.known.delete(id)) thread.worker.postMessage({ forget: [id] });
    }
  });

  constructor(settings: Partial<SignThreadSettings> = {}) {
    this.settings = { ...DEFAULTS, ...settings };
  }

  /** A key for `sign`; the threads learn it with the first batch that uses it. */
  key(digest: string | null, options: SignOptions): SignKey {
    const key = { id: ++this.nextKey, digest, options };
    this.keys.register(key, key.id);
    return key;
  }

  /** The signature of ASCII `input` (its latin1 bytes) with `key`. */
  sign(key: SignKey, input: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (!this.threads.some((thread) => thread.ready)) {
        // No thread running yet: this one on libuv's pool, while one starts.
        if (this.threads.length === 0) this.start();
        signOnPool(key.digest, input, key.options, { resolve, reject });
        return;
      }
      if (this.queued.length === 0) setImmediate(this.send);
      this.queued.push({ key, input, waiting: { resolve, reject } });
      if (this.queued.length >= this.settings.maxBatch) this.send();
    });
  }

  /** Threads now: starting or running, and running. */
  get size(): { threads: number; running: number } {
    return { threads: this.threads.length, running: this.threads.filter((thread) => thread.ready).length };
  }

  /** Stops the threads (tests); later signatures start others. */
  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    await Promise.all(threads.map((thread) => thread.stop()));
  }

  private readonly send = (): void => {
    const jobs = this.queued;
    if (jobs.length === 0) return;
    this.queued = [];
    const thread = this.leastBusy();
    if (!thread) {
      // Every thread went between the queueing and now: the pool signs these.
      for (const { key, input, waiting } of jobs) signOnPool(key.digest, input, key.options, waiting);
      return;
    }
    const added: [number, string | null, SignOptions][] = [];
    for (const { key } of jobs) {
      if (thread.known.has(key.id)) continue;
      added.push([key.id, key.digest, key.options]);
      thread.known.add(key.id);
    }
    thread.post(++this.nextBatch, added, jobs);
  };

  private start(): void {
    if (performance.now() < this.noStartUntil) return;
    this.threads.push(
      new Thread(this.settings.idleMs, (gone) => {
        this.threads = this.threads.filter((t) => t !== gone);
        if (gone.diedStarting) this.noStartUntil = performance.now() + START_BACKOFF_MS;
      }),
    );
  }

  private leastBusy(): Thread | undefined {
    if (this.threads.length < this.settings.threads) this.start(); // ready for a later batch
    let best: Thread | undefined;
    for (const thread of this.threads) if (thread.ready && (!best || thread.inFlight.size < best.inFlight.size)) best = thread;
    return best;
  }
}

/** The process's signing threads. */
export const signThread = new SignThreads();
