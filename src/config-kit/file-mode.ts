import { statSync } from 'node:fs';

/**
 * Files that hold secrets (the directory's password hashes and TOTP secrets, `${file:…}`
 * secrets) should be readable by the server's user only. A file every user of the machine
 * can read is reported as a load warning rather than refused: git keeps no file modes but the
 * executable bit, so a fresh clone's demo files are world-readable (umask 022), and
 * `npm ci && npm start` must still serve. Private signing keys, which the server writes
 * itself with mode 0600, are refused instead (tokens/key-store.ts).
 */
export function worldReadableProblem(path: string, holds: string): string | null {
  if (process.platform === 'win32') return null;
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return null; // the reader reports a missing file
  }
  if ((mode & 0o004) === 0) return null;
  return `mode ${(mode & 0o777).toString(8)} lets every user of this machine read ${holds}; make it readable by the server's user only (chmod 600 ${path})`;
}
