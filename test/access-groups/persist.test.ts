import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { setMember } from '../../src/admin/json-edit.js';
import { withLock, writeFileAtomic } from '../../src/admin/persist.js';

/** The pieces under the admin API's writes: in-place JSON edits, atomic files, the lock. */

describe('setMember: one member changes, every other byte stays', () => {
  const text = '{\n  "a": [ { "id": "x", "g": "P" },\n         { "id": "y" } ],\n  "b" : {"k\\"ey":"v\\u00e9"} }\n';

  it('replaces a value in place', () => {
    expect(setMember(text, ['a', 0], 'g', 'Q')).toBe(text.replace('"g": "P"', '"g": "Q"'));
  });

  it('adds a member after the last one, and into an empty object', () => {
    expect(setMember(text, ['a', 1], 'g', 'W')).toBe(text.replace('{ "id": "y" }', '{ "id": "y", "g": "W" }'));
    expect(setMember('{ "o": {} }', ['o'], 'k', 1)).toBe('{ "o": {"k": 1} }');
  });

  it('removes the last, first, middle and only member', () => {
    expect(setMember(text, ['a', 0], 'g', undefined)).toBe(text.replace(', "g": "P"', ''));
    expect(setMember('{"p": 1, "q": 2}', [], 'p', undefined)).toBe('{"q": 2}');
    expect(setMember('{"p": 1, "q": 2, "r": 3}', [], 'q', undefined)).toBe('{"p": 1, "r": 3}');
    expect(setMember('{ "p": 1 }', [], 'p', undefined)).toBe('{  }');
    expect(setMember(text, ['a', 1], 'g', undefined)).toBe(text);
  });

  it('handles escaped keys and values around the edit', () => {
    const out = setMember(text, ['b'], 'n', 'v2');
    expect(JSON.parse(out)).toEqual({ a: [{ id: 'x', g: 'P' }, { id: 'y' }], b: { 'k"ey': 'vé', n: 'v2' } });
  });

  it('refuses a path that is not there', () => {
    expect(() => setMember(text, ['a', 5], 'g', 'x')).toThrow();
    expect(() => setMember(text, ['nope'], 'g', 'x')).toThrow();
    expect(() => setMember(text, ['a'], 'g', 'x')).toThrow(/not an object/);
  });

  it('parses back to the object edit, for any document and member (property)', () => {
    const key = fc.string({ maxLength: 6 });
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }));
    fc.assert(
      fc.property(
        fc.dictionary(key, leaf),
        key,
        fc.option(fc.string(), { nil: undefined }),
        fc.integer({ min: 0, max: 2 }),
        (object, name, value, indent) => {
          if (name === '__proto__' || Object.keys(object).includes('__proto__')) return;
          const source = JSON.stringify({ list: [object] }, null, indent);
          const expected = JSON.parse(source);
          if (value === undefined) delete expected.list[0][name];
          else expected.list[0][name] = value;
          expect(JSON.stringify(JSON.parse(setMember(source, ['list', 0], name, value)))).toBe(JSON.stringify(expected));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('writeFileAtomic and withLock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'authpipe-persist-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file by rename (a new inode), keeps its mode, and leaves no temp file', async () => {
    const file = join(dir, 'groups.json');
    writeFileSync(file, 'old');
    chmodSync(file, 0o640);
    const inode = statSync(file).ino;
    await writeFileAtomic(file, 'new content\n');
    expect(readFileSync(file, 'utf8')).toBe('new content\n');
    expect(statSync(file).ino).not.toBe(inode);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['groups.json']);
  });

  it('a write that cannot complete leaves the old file and no temp file', async () => {
    const file = join(dir, 'groups.json');
    writeFileSync(file, 'old');
    await expect(writeFileAtomic(join(dir, 'missing', 'x.json'), 'new')).rejects.toThrow();
    await expect(writeFileAtomic(dir, 'a folder is not a file')).rejects.toThrow();
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['groups.json']);
  });

  it('serializes critical sections in this process and removes the lock file after', async () => {
    const lock = join(dir, 'x.lock');
    const events: string[] = [];
    const section = (name: string) =>
      withLock(lock, async () => {
        events.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 15));
        events.push(`${name} out`);
        return name;
      });
    await expect(Promise.all([section('a'), section('b'), section('c')])).resolves.toEqual(['a', 'b', 'c']);
    expect(events).toEqual(['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failing section releases the lock for the next', async () => {
    const lock = join(dir, 'x.lock');
    await expect(
      withLock(lock, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(withLock(lock, async () => 'next')).resolves.toBe('next');
  });

  it('a file where the lock folder goes (no authpipe makes one) fails the edit at once and is left alone', async () => {
    // The lock and its races: persist-lock.test.ts.
    const lock = join(dir, 'x.lock');
    writeFileSync(lock, '99999\n');
    await expect(withLock(lock, async () => 'never', 5_000)).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(readFileSync(lock, 'utf8')).toBe('99999\n');
    expect(readdirSync(dir).filter((n) => n.includes('x.lock'))).toEqual(['x.lock']);
  });
});
