/**
 * Where a batch of log lines goes: a file descriptor (stdout, stderr or a file opened for
 * append), written in the background on libuv's thread pool, one chunk at a time and in order,
 * so a slow disk or a slow reader never holds the event loop. What it promises:
 * - a full non-blocking pipe (EAGAIN), or any error a reader or disk may recover from, is
 *   retried every 100 ms for as long as it takes, and nothing is lost meanwhile, up to 64 MiB
 *   held: past that, new chunks are dropped (a stuck reader must not grow the heap until the
 *   process dies, losing everything) until half of that is written, stderr says so (unless
 *   stderr is the destination's own pipe: a write there would block the process), and when
 *   chunks are taken again, or at exit, a warn line on the destination itself says how many
 *   lines were dropped, so the gap shows where it is;
 * - a reader that is gone (EPIPE) stops the writer: its lines are dropped from then on, and
 *   one line on stderr says so;
 * - at exit, what it holds is written synchronously, and the whole of that waits out a full
 *   pipe for about a second at most, then gives up.
 * pino's SonicBoom did the background writes before. Its synchronous flush retries every error
 * but EAGAIN without end: a server whose log reader had gone (a supervisor restarted, a pipe
 * closed) never exited after SIGTERM, writing to the broken pipe every 100 ms.
 */
import { fstatSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeFolderSync } from '../config-kit/make-folder.js';

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
/** What a destination may hold unwritten before new chunks are dropped. */
const MAX_HELD_BYTES = 64 * 1024 * 1024;
/** Errors after which nothing written to the descriptor can arrive. */
const GONE = new Set(['EPIPE', 'EBADF', 'ECONNRESET']);

/** Lines dropped since start, by destination name (the metrics read them; observe/prometheus.ts). */
const droppedTotals = new Map<string, number>();

export function droppedLineTotals(): ReadonlyMap<string, number> {
  return droppedTotals;
}

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
  /** Bytes in the queue. */
  private held = 0;
  /** Dropped since chunks last fitted: told on the destination when they fit again. */
  private droppedLines = 0;
  private droppedBytes = 0;

  /** stderr is this destination, or the same pipe or file: nothing can be told there. */
  private readonly mute: boolean;

  constructor(
    private readonly fd: number,
    /** For the lines on stderr when the writer stops or drops. */
    private readonly name: string,
    private readonly maxHeld = MAX_HELD_BYTES,
  ) {
    this.mute = sameFile(fd, 2);
  }

  /** A file opened for append, its folder made first. */
  static forFile(file: string): FdWriter {
    makeFolderSync(dirname(file));
    return new FdWriter(openSync(file, 'a'), file);
  }

  write(chunk: Buffer): void {
    if (this.stopped) return;
    // Once dropping, chunks are taken again only below half the bound: a reader just slower
    // than the lines would otherwise flip it between taking and dropping on every batch.
    if (this.held + chunk.length > (this.droppedBytes > 0 ? this.maxHeld / 2 : this.maxHeld)) return this.drop(chunk);
    if (this.droppedBytes > 0) this.hold(this.gapNotice());
    this.hold(chunk);
    if (!this.writing && this.retryTimer === undefined) this.next();
  }

  private hold(chunk: Buffer): void {
    this.queue.push(chunk);
    this.held += chunk.length;
  }

  private drop(chunk: Buffer): void {
    if (this.droppedBytes === 0)
      this.tell(`authpipe: log destination ${this.name} is not being read (${this.held} bytes held); new lines are dropped until it is\n`);
    this.droppedBytes += chunk.length;
    let lines = 0;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
    this.droppedLines += lines;
    droppedTotals.set(this.name, (droppedTotals.get(this.name) ?? 0) + lines);
  }

  /** A pino-shaped warn line in the stream itself, where the lines are missing. */
  private gapNotice(): Buffer {
    const notice = Buffer.from(
      `{"level":"warn","time":${Date.now()},"service":"authpipe","dropped_lines":${this.droppedLines},"dropped_bytes":${this.droppedBytes},"msg":"log lines dropped: the destination was not read"}\n`,
    );
    this.tell(`authpipe: log destination ${this.name} is read again; ${this.droppedLines} lines were dropped\n`);
    this.droppedLines = 0;
    this.droppedBytes = 0;
    return notice;
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
        const chunk = this.queue[from] as Buffer;
        this.paused = writeAll(this.fd, chunk, this.paused);
        this.queue.splice(from, 1);
        this.held -= chunk.length;
      }
    } catch (err) {
      this.stop(err as NodeJS.ErrnoException);
    }
  }

  writeSync(chunk: Buffer): void {
    if (this.stopped) return;
    try {
      // The exit path: lines dropped before it are marked here, or nowhere.
      if (this.droppedBytes > 0) this.paused = writeAll(this.fd, this.gapNotice(), this.paused);
      this.paused = writeAll(this.fd, chunk, this.paused);
    } catch (err) {
      this.stop(err as NodeJS.ErrnoException);
    }
  }

  /**
   * One line on stderr, about this destination (which may be stdout, so pino cannot say it).
   * Synchronous, so that it is out before an exit; never when stderr is the destination's own
   * pipe, which is the one not being read.
   */
  private tell(line: string): void {
    if (this.mute) return;
    try {
      writeSync(2, line);
    } catch {
      // stderr is gone too: nobody is left to tell.
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
      this.held -= written;
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
    this.held = 0;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.tell(`authpipe: log destination ${this.name} stopped (${err.code ?? err.message}); its lines are dropped from now on\n`);
    this.settle();
  }
}

/** Whether two descriptors are the same file or pipe (`2>&1`, or a supervisor's one pipe for both). */
function sameFile(a: number, b: number): boolean {
  if (a === b) return true;
  try {
    const [x, y] = [fstatSync(a), fstatSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
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
