import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFolder, makeFolderSync } from '../../src/config-kit/make-folder.js';

/**
 * Folders for keys, logs, the pid file and the OTP outbox: made level by level, a folder
 * already there is fine, and a place where none can be made fails at once with the system's
 * code, where node's own recursive mkdir spins for ever (anywhere under /proc).
 */
const work = mkdtempSync(join(tmpdir(), 'authpipe-make-folder-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.each([
  ['makeFolderSync', async (dir: string, mode?: number) => makeFolderSync(dir, mode)],
  ['makeFolder', makeFolder],
])('%s', (name, make) => {
  it('makes the missing levels, with the mode given, and leaves a folder that is there alone', async () => {
    const dir = join(work, name, 'a', 'b', 'c');
    await make(dir, 0o700);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(statSync(join(work, name, 'a')).mode & 0o777).toBe(0o700);
    await expect(make(dir)).resolves.toBeUndefined();
  });

  it('throws EEXIST for a file in its place, and ENOENT for a link to nothing', async () => {
    const file = join(work, `${name}-in-place`);
    writeFileSync(file, 'x');
    await expect(make(file)).rejects.toMatchObject({ code: 'EEXIST' });
    const link = join(work, `${name}-dangling`);
    symlinkSync(join(work, 'nothing-here'), link);
    await expect(make(link)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('throws ENOTDIR under a file', async () => {
    writeFileSync(join(work, `${name}-file`), 'x');
    await expect(make(join(work, `${name}-file`, 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  const linux = process.platform === 'linux' ? it : it.skip;
  linux('throws ENOENT under /proc, at once', async () => {
    const started = performance.now();
    await expect(make('/proc/authpipe-nope/deeper')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

it('two makers racing for the same new folders both succeed (workers starting together)', async () => {
  const dir = join(work, 'race', 'x', 'y');
  await expect(Promise.all([makeFolder(dir), makeFolder(dir), makeFolder(dir)])).resolves.toHaveLength(3);
  expect(statSync(dir).isDirectory()).toBe(true);
});
