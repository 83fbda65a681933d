import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { droppedLineTotals, FdWriter } from '../../src/observe/fd-writer.js';
import { createMetrics } from '../../src/observe/prometheus.js';
import { sample } from '../support/metrics-text.js';
import { until } from '../support/until.js';

/**
 * The log writer against real descriptors: a file, and a named pipe whose reader is slow,
 * stuck or gone (the cases a log shipper or a supervisor produces).
 */
let dir: string;
const open: number[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'authpipe-fd-writer-'));
});
afterEach(() => {
  for (const fd of open.splice(0)) {
    try {
      closeSync(fd);
    } catch {
      // already closed by the test
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A named pipe, both ends open and non-blocking: [reader, writer]. */
function fifo(): [number, number] {
  const path = join(dir, 'pipe');
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  open.push(reader, writer);
  return [reader, writer];
}

/** Everything the pipe holds now. */
function drain(reader: number): string {
  const buffer = Buffer.alloc(65536);
  let text = '';
  for (;;) {
    try {
      const n = readSync(reader, buffer, 0, buffer.length, null);
      if (n === 0) return text;
      text += buffer.toString('utf8', 0, n);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return text;
      throw err;
    }
  }
}

const flushed = (writer: FdWriter) => new Promise<Error | undefined>((resolve) => writer.flush(resolve));

describe('fd writer', () => {
  it('appends chunks to a file in order, in the background, and makes its folder', async () => {
    const file = join(dir, 'logs', 'audit.jsonl');
    const writer = FdWriter.forFile(file);
    for (let i = 0; i < 50; i++) writer.write(Buffer.from(`{"n":${i}}\n`));
    expect(await flushed(writer)).toBeUndefined();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toEqual(Array.from({ length: 50 }, (_, i) => `{"n":${i}}`));
  });

  it('waits out a full pipe in the background and loses nothing once the reader reads again', async () => {
    const [reader, fd] = fifo();
    const writer = new FdWriter(fd, 'the pipe');
    // More than a pipe holds (64 KiB on Linux): the rest waits for the reader.
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.from(`${String(i).padStart(2, '0')}${'x'.repeat(4093)}\n`));
    for (const chunk of chunks) writer.write(chunk);
    let got = '';
    const done = flushed(writer);
    await until(() => {
      got += drain(reader);
      return got.length === 40 * 4096 ? true : undefined;
    });
    expect(await done).toBeUndefined();
    expect(got).toBe(Buffer.concat(chunks).toString('utf8'));
  });

  it('holds at most its bound for a reader that does not read, drops the rest, and says in the stream how many lines went', async () => {
    const [reader, fd] = fifo();
    const writer = new FdWriter(fd, 'the pipe', 64 * 4096);
    // 100 chunks of four 1 KiB lines, handed over before the pool has written any: 64 fit.
    const chunk = (i: number) =>
      Buffer.from(Array.from({ length: 4 }, (_, j) => `${String(i * 4 + j).padStart(4, '0')}${'x'.repeat(1019)}\n`).join(''));
    const before = droppedLineTotals().get('the pipe') ?? 0;
    for (let i = 0; i < 100; i++) writer.write(chunk(i));
    expect(droppedLineTotals().get('the pipe')).toBe(before + 36 * 4);
    const exported = await createMetrics({ defaultMetrics: false }).registry.metrics();
    expect(sample(exported, `authpipe_log_lines_dropped_total{destination="the pipe"}`)).toBe(before + 36 * 4);
    let got = '';
    await until(() => {
      got += drain(reader);
      return got.length === 64 * 4096 ? true : undefined;
    });
    expect(got).toBe(Buffer.concat(Array.from({ length: 64 }, (_, i) => chunk(i))).toString('utf8'));
    writer.write(Buffer.from('after\n'));
    expect(await flushed(writer)).toBeUndefined();
    const [notice, after, rest] = drain(reader).split('\n');
    expect(JSON.parse(notice as string)).toMatchObject({ level: 'warn', dropped_lines: 36 * 4, dropped_bytes: 36 * 4096 });
    expect([after, rest]).toEqual(['after', '']);
  });

  it('once dropping, takes chunks again only when half its bound is written, so a slow reader does not flip it on every batch', async () => {
    const [reader, fd] = fifo();
    writeSync(fd, Buffer.from(`${'.'.repeat(65535)}\n`)); // the pipe is full: the writer's chunks wait in its queue
    const writer = new FdWriter(fd, 'the pipe', 8 * 4096);
    const chunk = (tag: string) => Buffer.from(`${tag.padEnd(4095, '-')}\n`);
    for (let i = 0; i < 8; i++) writer.write(chunk(`kept-${i}`)); // exactly the bound
    writer.write(chunk('dropped-full'));
    // The reader takes 8 KiB: two chunks go out at the next retry, 6 of 8 stay held, above half.
    expect(readSync(reader, Buffer.alloc(8192), 0, 8192, null)).toBe(8192);
    await new Promise((resolve) => setTimeout(resolve, 300));
    writer.write(chunk('dropped-above-half')); // would fit under the bound, but dropping goes on
    let rest = '';
    await until(() => {
      rest += drain(reader);
      return rest.includes('kept-7') ? true : undefined;
    });
    writer.write(chunk('after'));
    expect(await flushed(writer)).toBeUndefined();
    rest += drain(reader);
    const lines = rest.split('\n').filter((l) => !l.startsWith('.'));
    expect(lines.map((l) => (l.startsWith('{') ? 'notice' : l.replace(/-+$/, '')))).toEqual([
      ...Array.from({ length: 8 }, (_, i) => `kept-${i}`),
      'notice',
      'after',
      '',
    ]);
    expect(JSON.parse(lines[8] as string)).toMatchObject({ dropped_lines: 2, dropped_bytes: 2 * 4096 });
  });

  it('at exit, marks a gap before the last lines it writes', () => {
    const [reader, fd] = fifo();
    const writer = new FdWriter(fd, 'the pipe', 4096);
    writer.write(Buffer.from(`${'a'.repeat(4095)}\n`));
    writer.write(Buffer.from('dropped\n'));
    writer.flushSync();
    writer.writeSync(Buffer.from('last\n'));
    const lines = drain(reader).trimEnd().split('\n');
    expect(lines.slice(-2).map((l) => (l.startsWith('{') ? JSON.parse(l).dropped_lines : l))).toEqual([1, 'last']);
  });

  it('at exit, gives up on a pipe nobody reads within about a second, for all its chunks together', () => {
    const [, fd] = fifo();
    const writer = new FdWriter(fd, 'the pipe');
    for (let i = 0; i < 64; i++) writer.write(Buffer.alloc(4096, 0x61));
    const started = performance.now();
    writer.flushSync(); // what the exit hook runs; the pipe fills and stays full
    writer.writeSync(Buffer.from('last\n'));
    const spent = performance.now() - started;
    expect(spent).toBeGreaterThan(900);
    expect(spent).toBeLessThan(3000);
  });

  it('stops when the reader is gone (EPIPE): the exit path returns at once and later lines are dropped', async () => {
    const [reader, fd] = fifo();
    const writer = new FdWriter(fd, 'the pipe');
    closeSync(reader);
    open.splice(open.indexOf(reader), 1);
    writer.write(Buffer.from('lost\n'));
    const err = await flushed(writer);
    expect((err as NodeJS.ErrnoException | undefined)?.code).toBe('EPIPE');
    const started = performance.now();
    writer.write(Buffer.from('dropped\n'));
    writer.flushSync();
    writer.writeSync(Buffer.from('dropped too\n'));
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('stops in the exit path too, when that is where the broken pipe is first met', () => {
    const [reader, fd] = fifo();
    const writer = new FdWriter(fd, 'the pipe');
    closeSync(reader);
    open.splice(open.indexOf(reader), 1);
    const started = performance.now();
    expect(() => writer.writeSync(Buffer.from('shutting down\n'))).not.toThrow();
    writer.flushSync();
    expect(performance.now() - started).toBeLessThan(100);
  });
});
