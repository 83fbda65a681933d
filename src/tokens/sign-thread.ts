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
 * A thread that dies fails the signatures it held (a fault for those calls) and the next
 * batch starts another. Idle threads do not keep the process alive.
 */
import type { KeyObject, SignKeyObjectInput } from 'node:crypto';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { sign } = require('node:crypto');
const keys = new Map();
parentPort.on('message', ({ batch, added, forget, jobs }) => {
  if (forget) { for (const id of forget) keys.delete(id); return; }
  for (const [id, digest, options] of added) keys.set(id, { digest, options });
  const signatures = [];
  for (const [keyId, data] of jobs) {
    try {
      const key = keys.get(keyId);
      signatures.push(sign(key.digest, data, key.options));
    } catch (err) {
      signatures.push(String(err && err.message ? err.message : err));
    }
  }
  parentPort.postMessage({ batch, signatures });
});
`;

type SignOptions = KeyObject | SignKeyObjectInput;

/** A key as the threads know it: sent along with the first batch that needs it on each thread. */
interface SignKey {
  readonly id: number;
  readonly digest: string | null;
  readonly options: SignOptions;
}

type Job = { key: SignKey; data: Buffer; waiting: Waiting };

interface Waiting {
  resolve(signature: Buffer): void;
  reject(err: Error): void;
}

/**
 * A batch goes out at the end of the turn, or sooner once this many wait: a larger batch
 * keeps its first token waiting for the last one's signature while the event loop has
 * nothing to do.
 */
const MAX_BATCH = 8;
/** Two threads: one signs a batch while the other takes the next. */
const THREADS = 2;

/** One worker and what it holds: the keys it knows, the batches it signs. */
class Thread {
  readonly worker: Worker;
  readonly known = new Set<number>();
  readonly inFlight = new Map<number, Waiting[]>();
  private gone = false;

  constructor(private readonly onGone: (thread: Thread) => void) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', ({ batch, signatures }: { batch: number; signatures: (Uint8Array | string)[] }) => {
      const waiting = this.inFlight.get(batch);
      if (!waiting) return;
      this.inFlight.delete(batch);
      if (this.inFlight.size === 0) this.worker.unref();
      waiting.forEach((w, i) => {
        const signature = signatures[i];
        if (typeof signature === 'string' || signature === undefined) w.reject(new Error(`token signature failed: ${signature}`));
        else w.resolve(Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength));
      });
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`token signing thread exited (${code})`)));
  }

  post(batch: number, added: [number, string | null, SignOptions][], jobs: Job[]): void {
    this.inFlight.set(
      batch,
      jobs.map((job) => job.waiting),
    );
    if (this.inFlight.size === 1) this.worker.ref();
    this.worker.postMessage({ batch, added, jobs: jobs.map((job) => [job.key.id, job.data]) });
  }

  private fail(err: Error): void {
    if (this.gone) return;
    this.gone = true;
    this.onGone(this);
    const lost = [...this.inFlight.values()].flat();
    this.inFlight.clear();
    for (const w of lost) w.reject(err);
  }
}

class SignThreads {
  private threads: Thread[] = [];
  private nextKey = 0;
  private nextBatch = 0;
  private queued: Job[] = [];
  // A key whose signer is gone (a reload replaced it) is forgotten by the threads too.
  private readonly keys = new FinalizationRegistry<number>((id) => {
    for (const thread of this.threads) {
      if (thread.known.delete(id)) thread.worker.postMessage({ forget: [id] });
    }
  });

  /** A key for `sign`; the threads learn it with the first batch that uses it. */
  key(digest: string | null, options: SignOptions): SignKey {
    const key = { id: ++this.nextKey, digest, options };
    this.keys.register(key, key.id);
    return key;
  }

  sign(key: SignKey, data: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(this.send);
      this.queued.push({ key, data, waiting: { resolve, reject } });
      if (this.queued.length >= MAX_BATCH) this.send();
    });
  }

  private readonly send = (): void => {
    const jobs = this.queued;
    if (jobs.length === 0) return;
    this.queued = [];
    const thread = this.leastBusy();
    const added: [number, string | null, SignOptions][] = [];
    for (const { key } of jobs) {
      if (thread.known.has(key.id)) continue;
      added.push([key.id, key.digest, key.options]);
      thread.known.add(key.id);
    }
    thread.post(++this.nextBatch, added, jobs);
  };

  private leastBusy(): Thread {
    if (this.threads.length < THREADS) {
      const thread = new Thread((gone) => (this.threads = this.threads.filter((t) => t !== gone)));
      this.threads.push(thread);
      return thread;
    }
    let best = this.threads[0] as Thread;
    for (const thread of this.threads) if (thread.inFlight.size < best.inFlight.size) best = thread;
    return best;
  }

  /** Stops the threads (tests); the next signature starts others. */
  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }
}

/** The process's signing threads. */
export const signThread = new SignThreads();
