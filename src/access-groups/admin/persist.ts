/**
 * Writes a config file so that a crash leaves either the old or the new content, never a
 * torn one: a temp file in the same folder, fsync, rename over the target, fsync the
 * folder. Admin edits are serialized by a lock held across read-check-write, in process (a
 * promise chain) and across processes (a lock folder beside the data, taken by an atomic
 * rename, stale after 30 s), so two admins, or two workers, cannot interleave and lose an
 * update.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
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
    const token = await acquire(lockPath, waitMs);
    try {
      return await fn();
    } finally {
      await release(lockPath, token);
    }
  });
  chains.set(lockPath, run);
  // Forget the chain once it is idle, so the map does not grow.
  void run.catch(() => undefined).then(() => {
    if (chains.get(lockPath) === run) chains.delete(lockPath);
  });
  return run;
}

/*
 * The cross-process lock is a folder at `lockPath` holding one empty file named by its
 * holder's random token; that file's mtime is when the lock was taken. Why not a plain file
 * with the token inside: unlink and rename act on whatever is at a path at that instant, so a
 * process that judged a lock file stale and then removed "it" could remove the fresh lock
 * another breaker had put there a moment before, and both would hold the lock. Here:
 * - a breaker removes only `lockPath/<stale token>`, a name no later lock has, so it can
 *   never remove a fresh lock, however late it acts on its judgement;
 * - a lock is taken by renaming a ready folder (token inside) onto `lockPath`, which the
 *   kernel does only when nothing or an empty folder is there: a held lock is never empty,
 *   and one emptied by a breaker counts as free, so exactly one renamer wins.
 */

/** Lock taken by someone else: a non-empty folder (ours) or a file (an older authpipe's). */
const TAKEN = new Set(['EEXIST', 'ENOTEMPTY', 'ENOTDIR']);

/** Takes the lock and returns our token. */
async function acquire(lockPath: string, waitMs: number, beforeBreak?: () => Promise<void>): Promise<string> {
  const deadline = Date.now() + waitMs;
  const token = `${process.pid}.${randomBytes(12).toString('hex')}`;
  const staging = join(dirname(lockPath), `.${basename(lockPath)}.${token}`);
  for (;;) {
    if (await install(lockPath, staging, token)) return token;
    const freed = await breakIfStale(lockPath, beforeBreak);
    if (Date.now() > deadline) throw new LockBusy(`${lockPath} is held by another process`);
    if (!freed) await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

/** Renames a folder holding our token onto `lockPath`; false when another lock is there. */
async function install(lockPath: string, staging: string, token: string): Promise<boolean> {
  // Staged afresh on each try, so the token's mtime tells when the lock was taken, not when
  // we started waiting (a long wait must not make our own lock look stale at once).
  await mkdir(staging, { mode: 0o700 });
  try {
    await writeFile(join(staging, token), '', { flag: 'wx', mode: 0o600 });
    await rename(staging, lockPath);
    return true;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (TAKEN.has(codeOf(err) ?? '')) return false;
    throw err;
  }
}

/**
 * Breaks the lock at `lockPath` if it is stale: nothing legitimate holds it 30 s, so its
 * holder died. True when the lock is gone or was broken (try again at once), false while a
 * live holder has it.
 */
async function breakIfStale(lockPath: string, beforeBreak?: () => Promise<void>): Promise<boolean> {
  const top = await lstat(lockPath).catch(unless('ENOENT'));
  if (top === undefined) return true;
  // A file is an older authpipe's lock: its age is its own. unlink cannot remove a folder,
  // so breaking one can race only with older processes, never remove a lock of ours.
  const entries = top.isDirectory() ? (await readdir(lockPath).catch(unless('ENOENT')) ?? []).map((n) => join(lockPath, n)) : [lockPath];
  let freed = true;
  for (const entry of entries) {
    const held = await lstat(entry).catch(unless('ENOENT'));
    if (held === undefined) continue; // released meanwhile
    if (Date.now() - held.mtimeMs <= STALE_MS) {
      freed = false;
      continue;
    }
    await beforeBreak?.();
    // However long after the judgement this runs, the name is the stale lock's alone: if
    // another breaker got there first, this finds nothing (ENOENT); EISDIR/EPERM mean a
    // fresh folder lock replaced an old-style file, which unlink leaves alone.
    const gone = await unlink(entry).then(() => true, (err) => {
      if (codeOf(err) === 'ENOENT') return true;
      if (codeOf(err) === 'EISDIR' || codeOf(err) === 'EPERM') return false;
      throw err;
    });
    freed &&= gone;
  }
  // Tidy the emptied folder; rmdir refuses a folder with a file in it, so a fresh lock
  // renamed in meanwhile stays. Failing is harmless: an empty folder counts as free.
  if (freed && top.isDirectory()) await rmdir(lockPath).catch(() => undefined);
  return freed;
}

/**
 * Gives up our lock. Our token's name is ours alone: if the lock was broken as stale and
 * another process holds it now, this removes nothing of theirs.
 */
async function release(lockPath: string, token: string): Promise<void> {
  await unlink(join(lockPath, token)).catch(unless('ENOENT', 'ENOTDIR'));
  await rmdir(lockPath).catch(unless('ENOENT', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR'));
}

/**
 * Test seam only, not for production callers: take and give up the cross-process lock
 * without the in-process chain, as separate processes would. `beforeBreak` runs between
 * judging a lock stale and breaking it, so tests can line breakers up in that window.
 */
export const fileLockForTests = { acquire, release };

function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** A catch handler that turns the listed error codes into undefined and rethrows the rest. */
function unless(...codes: string[]): (err: unknown) => undefined {
  return (err) => {
    if (codes.includes(codeOf(err) ?? '')) return undefined;
    throw err;
  };
}
