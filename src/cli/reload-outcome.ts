import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ReloadResult } from '../app/config-lifecycle.js';
import { formatIssue } from '../config-kit/issues.js';

/**
 * How the last SIGHUP reload ended, in a file beside the pid file, so that `authpipe reload`
 * can wait for it and exit non-zero with the reasons when the server refused the new config.
 * Written whole (a temp file renamed over it): a reader never sees half of it.
 */
export interface ReloadOutcome {
  readonly pid: number;
  /** Epoch milliseconds when the reload ended. */
  readonly at: number;
  readonly ok: boolean;
  readonly version?: string;
  /** The refusal's issues, as `authpipe validate` prints them. */
  readonly issues?: readonly string[];
}

const outcomePath = (pidFile: string) => `${resolve(pidFile)}.reload.json`;

export function writeReloadOutcome(pidFile: string, result: ReloadResult, now = Date.now()): void {
  const outcome: ReloadOutcome = result.ok
    ? { pid: process.pid, at: now, ok: true, version: result.version }
    : { pid: process.pid, at: now, ok: false, issues: result.issues.map(formatIssue) };
  const path = outcomePath(pidFile);
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, `${JSON.stringify(outcome)}\n`);
    renameSync(temp, path);
  } catch {
    // Only `authpipe reload` reads it; the reload itself is logged either way.
  }
}

export function readReloadOutcome(pidFile: string): ReloadOutcome | null {
  try {
    return JSON.parse(readFileSync(outcomePath(pidFile), 'utf8')) as ReloadOutcome;
  } catch {
    return null;
  }
}
