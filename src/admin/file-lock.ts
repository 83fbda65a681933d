/**
 * A lock shared by processes (workers, or two servers on one config folder): a folder beside
 * the data, taken by an atomic rename and stale after 30 s (its holder died). persist.ts's
 * withLock holds it, after an in-process chain, across an admin edit's read-check-write.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export class LockBusy extends Error {}

const STALE_MS = 30_000;
const RETRY_MS = 25;

/*
 * The lock is a folder at `lockPath` holding one empty file named by its
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

/** Lock taken by someone else: a folder that is not empty. */
const TAKEN = new Set(['EEXIST', 'ENOTEMPTY']);

/**
 * Takes the lock and returns our token; LockBusy after `waitMs`. `beforeBreak` runs between
 * judging a lock stale and breaking it (tests line breakers up in that window).
 */
export async function acquireFileLock(lockPath: string, waitMs: number, beforeBreak?: () => Promise<void>): Promise<string> {
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
  const names = await readdir(lockPath).catch(unless('ENOENT'));
  if (names === undefined) return true;
  let freed = true;
  for (const name of names) {
    const entry = join(lockPath, name);
    const held = await lstat(entry).catch(unless('ENOENT'));
    if (held === undefined) continue; // released meanwhile
    if (Date.now() - held.mtimeMs <= STALE_MS) {
      freed = false;
      continue;
    }
    await beforeBreak?.();
    // However long after the judgement this runs, the name is the stale lock's alone: if
    // another breaker got there first, this finds nothing.
    await unlink(entry).catch(unless('ENOENT'));
  }
  // Tidy the emptied folder; rmdir refuses a folder with a file in it, so a fresh lock
  // renamed in meanwhile stays. Failing is harmless: an empty folder counts as free.
  if (freed) await rmdir(lockPath).catch(() => undefined);
  return freed;
}

/**
 * Gives up our lock. Our token's name is ours alone: if the lock was broken as stale and
 * another process holds it now, this removes nothing of theirs.
 */
export async function releaseFileLock(lockPath: string, token: string): Promise<void> {
  await unlink(join(lockPath, token)).catch(unless('ENOENT'));
  await rmdir(lockPath).catch(unless('ENOENT', 'ENOTEMPTY', 'EEXIST'));
}

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
