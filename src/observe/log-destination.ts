import { resolve } from 'node:path';
import pino from 'pino';

/**
 * Where log and audit lines go. Lines are batched: handed to the writer (pino's SonicBoom)
 * as one string once 16 KiB have gathered, or every 200 ms, and synchronously at exit.
 * Measured on till-login, which logs three lines (call, auth.success, token.issued): a
 * write per line cost about as much as the ES256 signature, in system calls and in waking
 * whatever reads the pipe. SonicBoom's own batching (minLength) re-measures the whole
 * pending buffer on every line (about 10 µs a call at 4 KiB); here a line costs an array
 * push. 200 ms is well below what an admin tailing the log notices. stdout and stderr are
 * shared by every logger of the process, so the application log and the audit stream on
 * stdout fill one batch.
 */
export const LOG_BATCH_CHARS = 16384;
const LOG_FLUSH_MS = 200;

type Writer = pino.DestinationStream & { flush(cb?: (err?: Error) => void): void; flushSync(): void };

export class LineBatch {
  private lines: string[] = [];
  private chars = 0;

  constructor(
    private readonly writer: Writer,
    flushMs = LOG_FLUSH_MS,
  ) {
    setInterval(this.drain, flushMs).unref();
  }

  write(line: string): boolean {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= LOG_BATCH_CHARS) this.drain();
    return true;
  }

  flush(cb?: (err?: Error) => void): void {
    this.drain();
    this.writer.flush(cb);
  }

  flushSync(): void {
    this.drain();
    this.writer.flushSync();
  }

  private readonly drain = (): void => {
    if (this.lines.length === 0) return;
    const text = this.lines.join('');
    this.lines = [];
    this.chars = 0;
    try {
      this.writer.write(text);
    } catch {
      // A writer that was closed under us: losing log lines must not take the server down
      // (this also runs from a timer, where a throw would be an uncaught exception).
    }
  };
}

const batches = new Set<LineBatch>();

/** Writes every pending line now; run at exit (pino flushes its own writers then too). */
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
  if (!stream) standard.set(fd, (stream = batched(pino.destination({ dest: fd, sync: false }) as Writer)));
  return stream;
}

/** A file (created with its folder); relative paths resolve against `baseDir`. */
export function fileDestination(file: string, baseDir: string): pino.DestinationStream {
  return batched(pino.destination({ dest: resolve(baseDir, file), mkdir: true, sync: false }) as Writer);
}
