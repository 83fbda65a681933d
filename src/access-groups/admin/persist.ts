/**
 * Writes a config file so that a crash leaves either the old or the new content, never a
 * torn one: a temp file in the same folder, fsync, rename over the target, fsync the
 * folder. Admin edits are serialized by a lock held across read-check-write, in process (a
 * promise chain) and across processes (an O_EXCL lock file beside the data, stale after
 * 30 s), so two admins, or two workers, cannot interleave and lose an update.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = await stat(path).then((s) => s.mode & 0o777, () => 0o644);
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

export class LockBusy extends Error {}

const chains = new Map<string, Promise<unknown>>();
const STALE_MS = 30_000;
const WAIT_MS = 3_000;
const RETRY_MS = 25;

/** Runs `fn` holding the lock at `lockPath`; LockBusy when another process holds it too long. */
export function withLock<T>(lockPath: string, fn: () => Promise<T>, waitMs = WAIT_MS): Promise<T> {
  const previous = chains.get(lockPath) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    const owner = await acquire(lockPath, waitMs);
    try {
      return await fn();
    } finally {
      await release(lockPath, owner);
    }
  });
  chains.set(lockPath, run);
  // Forget the chain once it is idle, so the map does not grow.
  void run.catch(() => undefined).then(() => {
    if (chains.get(lockPath) === run) chains.delete(lockPath);
  });
  return run;
}

/** Takes the lock and returns the owner token written into it. */
async function acquire(lockPath: string, waitMs: number): Promise<string> {
  const deadline = Date.now() + waitMs;
  const owner = `${process.pid} ${randomBytes(12).toString('hex')}\n`;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.writeFile(owner);
      await handle.close();
      return owner;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const age = await stat(lockPath).then((s) => Date.now() - s.mtimeMs, () => 0);
    // A holder that died mid-write leaves its lock behind; nothing legitimate holds it 30 s.
    if (age > STALE_MS) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new LockBusy(`${lockPath} is held by another process`);
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

/** Removes the lock only while it is still ours: a lock broken as stale may belong to another writer now. */
async function release(lockPath: string, owner: string): Promise<void> {
  const content = await readFile(lockPath, 'utf8').catch(() => null);
  if (content === owner) await rm(lockPath, { force: true });
}
