import { resolve } from 'node:path';
import type pino from 'pino';
import { FdWriter, type Writer } from './fd-writer.js';

/**
 * Where log and audit lines go. Lines are batched: encoded into a buffer as they come, which
 * is handed to the writer (fd-writer.ts) once 64 KiB have gathered, or every 200 ms, and
 * synchronously at exit. Measured on till-login, which logs three lines
 * (call, auth.success, token.issued): a write per line cost about as much as the ES256
 * signature, in system calls and in waking whatever reads the pipe. (SonicBoom's own batching,
 * minLength, re-measured the whole pending buffer on every line: about 10 µs a call at 4 KiB.)
 * A line is encoded at once, while it is still in the CPU's cache: gathering the strings and
 * joining them at the batch's end read lines made dozens of calls earlier, scattered through
 * the young generation: cold memory (bench/profile.js on till-login, two runs each way: system
 * calls and log writes 15-18 -> 13 µs a call, log and audit code 3.9-4.7 -> 2.7-3.1 µs).
 * 200 ms is well below what an admin tailing the log notices. stdout and stderr are shared by
 * every logger of the process, so the application log and the audit stream on stdout fill one
 * batch.
 */
// 64 KiB rather than 16: each batch costs the event loop one background write, about 9 µs to
// hand to the thread pool whatever its size, and a till-login writes three lines (measured with
// 228-byte lines, 30 a turn, to /dev/null: 327 ns a line at 16 KiB, 240-275 at 64 KiB).
export const LOG_BATCH_BYTES = 65536;
/** Room for a batch plus a line that still joins it (a UTF-16 unit is at most 3 bytes of UTF-8); a longer one drains the batch first. */
const BUFFER_BYTES = LOG_BATCH_BYTES + 16384;
const LOG_FLUSH_MS = 200;

export class LineBatch {
  private buffer = Buffer.allocUnsafeSlow(BUFFER_BYTES);
  private used = 0;

  constructor(
    private readonly writer: Writer,
    flushMs = LOG_FLUSH_MS,
  ) {
    setInterval(this.drain, flushMs).unref();
  }

  write(line: string): boolean {
    if (this.used + 3 * line.length > BUFFER_BYTES) {
      this.drain();
      // A line too long for an empty buffer goes on its own, after what came before it.
      if (3 * line.length > BUFFER_BYTES) {
        this.hand(Buffer.from(line, 'utf8'));
        return true;
      }
    }
    this.used += this.buffer.write(line, this.used, 'utf8');
    if (this.used >= LOG_BATCH_BYTES) this.drain();
    return true;
  }

  flush(cb?: (err?: Error) => void): void {
    this.drain();
    this.writer.flush(cb);
  }

  /**
   * Everything now, synchronously: what the writer already holds, then the pending lines. Handing
   * those to `write` would start a background write when the writer is idle, which its own
   * flushSync skips, and lines logged just before exit could be lost.
   */
  flushSync(): void {
    this.writer.flushSync();
    const chunk = this.take();
    if (chunk !== undefined) this.writer.writeSync(chunk);
  }

  private readonly drain = (): void => {
    const chunk = this.take();
    if (chunk !== undefined) this.hand(chunk);
  };

  /** The pending lines, if any; the next ones go to a new buffer, since the writer keeps this one until it is written. */
  private take(): Buffer | undefined {
    if (this.used === 0) return undefined;
    const chunk = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafeSlow(BUFFER_BYTES);
    this.used = 0;
    return chunk;
  }

  private hand(chunk: Buffer): void {
    try {
      this.writer.write(chunk);
    } catch {
      // A writer that was closed under us: losing log lines must not take the server down
      // (this also runs from a timer, where a throw would be an uncaught exception).
    }
  }
}

const batches = new Set<LineBatch>();

/** Writes every pending line now; run at exit. */
export function flushAllSync(): void {
  for (const batch of batches) {
    try {
      batch.flushSync();
    } catch {
      // A writer already closed (or a broken pipe) loses its last lines, nothing else.
    }
  }
}
process.once('exit', flushAllSync);

function batched(writer: Writer): LineBatch {
  const batch = new LineBatch(writer);
  batches.add(batch);
  return batch;
}

const standard = new Map<1 | 2, LineBatch>();

/** The process's stdout (1) or stderr (2), one batch per descriptor for the whole process. */
export function standardDestination(fd: 1 | 2): pino.DestinationStream {
  let stream = standard.get(fd);
  if (!stream) {
    // Node's own stream for the descriptor, made here for its side effect: on a pipe or socket
    // it sets O_NONBLOCK. An inherited pipe is blocking until then, and a blocking write to a
    // pipe whose reader is stuck never returns: the exit path's bounded wait (fd-writer.ts)
    // relies on EAGAIN. (Some dependency made them already; this makes it ours to rely on.)
    void (fd === 1 ? process.stdout : process.stderr);
    standard.set(fd, (stream = batched(new FdWriter(fd, fd === 1 ? 'stdout' : 'stderr'))));
  }
  return stream;
}

/** A file (created with its folder); relative paths resolve against `baseDir`. */
export function fileDestination(file: string, baseDir: string): pino.DestinationStream {
  return batched(FdWriter.forFile(resolve(baseDir, file)));
}
