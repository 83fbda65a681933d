import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A folder and the folders above it that are missing, as `mkdir -p` makes them. Not node's
 * `recursive` option: where mkdir answers ENOENT although the parent exists (anywhere under
 * /proc), node's recursive walk retries for ever, and a keys folder, log file, pid file or OTP
 * outbox configured there hung the start (or a thread-pool thread) instead of failing. Here
 * each level is tried once more after its parent, and a second failure is thrown. A folder
 * that appears meanwhile (a sibling worker starting at the same moment) is fine; a file in
 * its place is EEXIST, and a link to nothing ENOENT. `mode` applies to the folders made, as
 * mkdir's does.
 */
export function makeFolderSync(dir: string, mode?: number): void {
  try {
    mkdirSync(dir, mode);
  } catch (err) {
    const parent = retryAfterParent(err, dir);
    if (parent === undefined) return folderThere(err, statSync(dir));
    makeFolderSync(parent, mode);
    try {
      mkdirSync(dir, mode);
    } catch (again) {
      existsAlready(again);
      folderThere(again, statSync(dir));
    }
  }
}

/** makeFolderSync, without holding the event loop. */
export async function makeFolder(dir: string, mode?: number): Promise<void> {
  try {
    await mkdir(dir, mode);
  } catch (err) {
    const parent = retryAfterParent(err, dir);
    if (parent === undefined) return folderThere(err, await stat(dir));
    await makeFolder(parent, mode);
    try {
      await mkdir(dir, mode);
    } catch (again) {
      existsAlready(again);
      folderThere(again, await stat(dir));
    }
  }
}

/** After a first failure: undefined when the folder is there, the parent to make when it is missing, else the error. */
function retryAfterParent(err: unknown, dir: string): string | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EEXIST') return undefined;
  const parent = dirname(dir);
  if (code !== 'ENOENT' || parent === dir) throw err;
  return parent;
}

/** After EEXIST: a folder is fine; a file (or anything else) in its place is that EEXIST, as node's own mkdir -p reports it. */
function folderThere(err: unknown, found: { isDirectory(): boolean }): void {
  if (!found.isDirectory()) throw err;
}

function existsAlready(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
}
