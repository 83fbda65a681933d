import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { makeFolderSync } from '../config-kit/make-folder.js';
import { dirname, resolve } from 'node:path';

/**
 * The running server's pid, for `authpipe reload`: under `npm start`, `kill -HUP` on the pid
 * a process list shows first is npm's, and SIGHUP kills npm. The server (the primary under
 * --workers) writes its own pid at start and removes the file at exit. Relative paths
 * resolve against the working folder, as the OTP outbox does.
 */
export const DEFAULT_PID_FILE = 'var/authpipe.pid';

export function writePidFile(path: string, pid = process.pid): void {
  const file = resolve(path);
  try {
    makeFolderSync(dirname(file));
    writeFileSync(file, `${pid}\n`);
  } catch (err) {
    // A file emptied but not written (a full disk) names no server: it goes. One that still
    // names a pid (not writable by us) is left alone.
    try {
      if (statSync(file).size === 0) rmSync(file);
    } catch {
      // not there, or not ours to remove
    }
    throw new Error(`cannot write the pid file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

/** Removes the file only while it still names `pid`: a newer server may have taken it. */
export function removePidFile(path: string, pid = process.pid): void {
  try {
    if (readPid(path) === pid) rmSync(resolve(path));
  } catch {
    // gone already
  }
}

export function readPid(path: string): number | null {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8').trim();
  } catch {
    return null;
  }
  return /^[1-9]\d{0,9}$/.test(text) ? Number(text) : null;
}

/**
 * Whether `pid` is a live authpipe server. Where /proc exists its command line must say
 * `serve`, so a stale file whose pid the system gave to another program is not signalled.
 */
export function isServer(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes('serve');
  } catch {
    return true; // no /proc: the pid is alive, trust the file
  }
}
