/**
 * Where a batch of log lines goes: a file descriptor (stdout, stderr or a file opened for
 * append), written in the background on libuv's thread pool, one chunk at a time and in order,
 * so a slow disk or a slow reader never holds the event loop. What it promises:
 * - a full non-blocking pipe (EAGAIN), or any error a reader or disk may recover from, is
 *   retried every 100 ms for as long as it takes, and nothing is lost meanwhile;
 * - a reader that is gone (EPIPE) stops the writer: its lines are dropped from then on, and
 *   one line on stderr says so;
 * - at exit, what it holds is written synchronously, and the whole of that waits out a full
 *   pipe for about a second at most, then gives up.
 * pino's SonicBoom did the background writes before. Its synchronous flush retries every error
 * but EAGAIN without end: a server whose log reader had gone (a supervisor restarted, a pipe
 * closed) never exited after SIGTERM, writing to the broken pipe every 100 ms.
 */
import { mkdirSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** What LineBatch hands its chunks to: `write` in the background, `writeSync` at once (the exit path). */
export interface Writer {
  write(chunk: Buffer): void;
  writeSync(chunk: Buffer): void;
  /** `cb` once everything handed over so far is written (or the writer stopped). */
  flush(cb?: (err?: Error) => void): void;
  /** Everything held, now (exit). */
  flushSync(): void;
}

const RETRY_MS = 100;
/** At exit, how many 1 ms pauses a full pipe gets, for all the chunks together. */
const EXIT_PAUSES = 1000;
/** Errors after which nothing written to the descriptor can arrive. */
const GONE = new Set(['EPIPE', 'EBADF', 'ECONNRESET']);

/** Waited on for a millisecond's pause (nothing ever wakes it). */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

export class FdWriter implements Writer {
  private readonly queue: Buffer[] = [];
  /** The thread pool is writing queue[0]. */
  private writing = false;
  /** queue[0] waits for a retry. */
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped: Error | undefined;
  /** The 1 ms pauses the synchronous writes have waited out a full pipe, all together. */
  private paused = 0;
  private waiters: ((err?: Error) => void)[] = [];

  constructor(
    private readonly fd: number,
    /** For the one line on stderr when the writer stops. */
    private readonly name: string,
  ) {}

  /** A file opened for append, its folder made first. */
  static forFile(file: string): FdWriter {
    mkdirSync(dirname(file), { recursive: true });
    return new FdWriter(openSync(file, 'a'), file);
  }

  write(chunk: Buffer): void {
    if (this.stopped) return;
    this.queue.push(chunk);
    if (!this.writing && this.retryTimer === undefined) this.next();
  }

  flush(cb?: (err?: Error) => void): void {
    if (!cb) return;
    if (this.stopped || this.queue.length === 0) queueMicrotask(() => cb(this.stopped));
    else this.waiters.push(cb);
  }

  flushSync(): void {
    if (this.stopped) return;
    // A chunk the pool is writing is the pool's to finish: written here too, it could come out twice.
    const from = this.writing ? 1 : 0;
    try {
      while (this.queue.length > from) {
        this.paused = writeAll(this.fd, this.queue[from] as Buffer, this.paused);
        this.queue.splice(from, 1);
      }
    } catch (err) {
      this.stop(err as NodeJS.ErrnoException);
    }
  }

  writeSync(chunk: Buffer): void {
    if (this.stopped) return;
    try {
      this.paused = writeAll(this.fd, chunk, this.paused);
    } catch (err) {
      this.stop(err as NodeJS.ErrnoException);
    }
  }

  private next(): void {
    this.retryTimer = undefined;
    const chunk = this.queue[0];
    if (chunk === undefined || this.stopped) return this.settle();
    this.writing = true;
    write(this.fd, chunk, 0, chunk.length, null, (err, written) => {
      this.writing = false;
      if (this.stopped) return;
      if (err) {
        if (GONE.has(err.code ?? '')) return this.stop(err);
        // A full pipe, a full disk: the same chunk again in a moment. unref: the exit hook writes what is left.
        this.retryTimer = setTimeout(() => this.next(), RETRY_MS).unref();
        return;
      }
      if (written < chunk.length) this.queue[0] = chunk.subarray(written);
      else this.queue.shift();
      this.next();
    });
  }

  private settle(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const cb of waiters) cb(this.stopped);
  }

  private stop(err: NodeJS.ErrnoException): void {
    if (this.stopped) return;
    this.stopped = err;
    this.queue.length = 0;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    try {
      writeSync(2, `authpipe: log destination ${this.name} stopped (${err.code ?? err.message}); its lines are dropped from now on\n`);
    } catch {
      // stderr is gone too: nobody is left to tell.
    }
    this.settle();
  }
}

/**
 * All of `chunk`, synchronously: a full non-blocking pipe is waited out 1 ms at a time, at most
 * EXIT_PAUSES pauses counting those already spent (`pauses`), which it returns; any other
 * error is thrown.
 */
function writeAll(fd: number, chunk: Buffer, pauses: number): number {
  let rest = chunk;
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++pauses > EXIT_PAUSES) throw err;
      Atomics.wait(PAUSE, 0, 0, 1);
    }
  }
  return pauses;
}
