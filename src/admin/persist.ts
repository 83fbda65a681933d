/**
 * Writes a config file so that a crash leaves either the old or the new content, never a
 * torn one: a temp file in the same folder, fsync, rename over the target, fsync the
 * folder. Admin edits are serialized by a lock held across read-check-write, in process (a
 * promise chain) and across processes (a lock folder beside the data, taken by an atomic
 * rename, stale after 30 s: file-lock.ts), so two admins, or two workers, cannot
 * interleave and lose an update.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { acquireFileLock, releaseFileLock } from './file-lock.js';

export { LockBusy } from './file-lock.js';

export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = await stat(path).then(
    (s) => s.mode & 0o777,
    () => 0o644,
  );
  const file = await open(tmp, 'wx', mode);
  try {
    await file.writeFile(text, 'utf8');
    await file.sync();
  } catch (err) {
    await file.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await file.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

const chains = new Map<string, Promise<unknown>>();
const WAIT_MS = 3_000;

/** Runs `fn` holding the lock at `lockPath`; LockBusy when another process holds it too long. */
export function withLock<T>(lockPath: string, fn: () => Promise<T>, waitMs = WAIT_MS): Promise<T> {
  const previous = chains.get(lockPath) ?? Promise.resolve();
  const run = previous
    .catch(() => undefined)
    .then(async () => {
      const token = await acquireFileLock(lockPath, waitMs);
      try {
        return await fn();
      } finally {
        await releaseFileLock(lockPath, token);
      }
    });
  chains.set(lockPath, run);
  // Forget the chain once it is idle, so the map does not grow.
  void run
    .catch(() => undefined)
    .then(() => {
      if (chains.get(lockPath) === run) chains.delete(lockPath);
    });
  return run;
}
