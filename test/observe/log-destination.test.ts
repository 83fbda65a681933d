import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileDestination, flushAllSync, LineBatch, LOG_BATCH_BYTES } from '../../src/observe/log-destination.js';
import { until } from '../support/until.js';

/** Records what the batch hands to its writer (the part under test is the batching, not the I/O). */
function recordingWriter() {
  const writes: string[] = [];
  /** What went by writeSync: the exit path. */
  const sync: string[] = [];
  return {
    writes,
    sync,
    write: (chunk: Buffer) => writes.push(chunk.toString('utf8')),
    writeSync: (chunk: Buffer) => {
      writes.push(chunk.toString('utf8'));
      sync.push(chunk.toString('utf8'));
    },
    flush: () => {},
    flushSync: () => {},
  };
}

// The flush timer is moved by hand: a busy machine delays real timers, never these.
afterEach(() => {
  jest.useRealTimers();
});

describe('log destination: lines are batched', () => {
  it('holds short lines, then hands them over as one write, in order, once a batch (LOG_BATCH_BYTES) has gathered', () => {
    const writer = recordingWriter();
    const batch = new LineBatch(writer, 60_000);
    const line = `${'x'.repeat(99)}\n`;
    const count = Math.ceil(LOG_BATCH_BYTES / line.length);
    for (let i = 0; i < count - 1; i += 1) batch.write(line.replace('x', String(i % 10)));
    expect(writer.writes).toEqual([]);
    batch.write(line);
    expect(writer.writes).toHaveLength(1);
    expect(writer.writes[0]?.split('\n').filter(Boolean)).toHaveLength(count);
    expect(writer.writes[0]?.startsWith('0')).toBe(true);
  });

  it('writes what is pending when the flush interval comes round, and nothing when idle', () => {
    jest.useFakeTimers();
    const writer = recordingWriter();
    const batch = new LineBatch(writer, 20);
    batch.write('{"a":1}\n');
    batch.write('{"b":2}\n');
    jest.advanceTimersByTime(19);
    expect(writer.writes).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(writer.writes).toEqual(['{"a":1}\n{"b":2}\n']);
    jest.advanceTimersByTime(100);
    expect(writer.writes).toHaveLength(1);
  });

  it('flush and flushSync write at once', () => {
    const writer = recordingWriter();
    const batch = new LineBatch(writer, 60_000);
    batch.write('one\n');
    batch.flush();
    batch.write('two\n');
    batch.flushSync();
    expect(writer.writes).toEqual(['one\n', 'two\n']);
    // At exit the pending lines are written synchronously, not handed to a background write.
    expect(writer.sync).toEqual(['two\n']);
  });

  it('keeps UTF-8 intact, and a line too long for a batch goes on its own, in order', () => {
    const writer = recordingWriter();
    const batch = new LineBatch(writer, 60_000);
    batch.write('{"name":"Åsa 😀"}\n');
    const long = `${'é'.repeat(3 * LOG_BATCH_BYTES)}\n`;
    batch.write(long);
    expect(writer.writes).toEqual(['{"name":"Åsa 😀"}\n', long]);
    batch.write('after\n');
    batch.flushSync();
    expect(writer.writes).toEqual(['{"name":"Åsa 😀"}\n', long, 'after\n']);
  });

  it('a line that does not fit beside the pending ones drains them first', () => {
    const writer = recordingWriter();
    const batch = new LineBatch(writer, 60_000);
    const small = `${'x'.repeat(LOG_BATCH_BYTES / 2)}\n`;
    batch.write(small);
    // Fits an empty buffer (a batch and a quarter: three bytes a unit at most), not beside half a batch.
    const big = `${'y'.repeat(LOG_BATCH_BYTES / 4 + 1024)}\n`;
    batch.write(big);
    expect(writer.writes).toEqual([small]);
    batch.flushSync();
    expect(writer.writes).toEqual([small, big]);
  });

  it('at exit, pending lines reach the file synchronously', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'authpipe-log-'));
    try {
      const file = join(dir, 'logs', 'audit.jsonl');
      const destination = fileDestination('logs/audit.jsonl', dir);
      // A first line, written by the flush timer in the background; the second is still pending at exit.
      destination.write('{"event":"first"}\n');
      await until(() => (existsSync(file) && readFileSync(file, 'utf8') !== '' ? true : undefined));
      destination.write('{"event":"auth.success"}\n');
      flushAllSync(); // what the process 'exit' hook runs
      expect(readFileSync(file, 'utf8')).toBe('{"event":"first"}\n{"event":"auth.success"}\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('log destination: a broken writer', () => {
  it('loses the lines, never throws into the caller or the flush timer', () => {
    jest.useFakeTimers();
    const broken = {
      write: () => {
        throw new Error('writer closed');
      },
      writeSync: () => {
        throw new Error('writer closed');
      },
      flush: () => {},
      flushSync: () => {},
    };
    const batch = new LineBatch(broken, 10);
    expect(() => batch.write(`${'x'.repeat(LOG_BATCH_BYTES)}\n`)).not.toThrow();
    batch.write('pending\n');
    expect(() => jest.advanceTimersByTime(40)).not.toThrow(); // the timer's drain runs against the broken writer
    expect(() => batch.flush()).not.toThrow();
  });
});
