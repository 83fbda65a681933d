import type { ConfigIssueCode } from '../errors.js';

/**
 * A load problem an admin has to fix: which file, where in it (RFC 6901 JSON pointer),
 * and what was expected. Loading collects every issue before failing, so one run of
 * `authpipe validate` shows them all. `code` (from the catalogue in src/errors.ts) says what
 * kind of problem it is. Every issue and every warning carries one: a new place that pushes
 * an issue picks the code that fits, or adds one to the catalogue and to docs/contract.md.
 */
export interface ConfigIssue {
  file: string;
  pointer: string;
  message: string;
  code: ConfigIssueCode;
}

export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatIssue(issue: ConfigIssue): string {
  return `${issue.file}: ${issue.pointer || '/'}: ${issue.message}`;
}

export function escapePointer(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(...tokens: (string | number)[]): string {
  return tokens.map((t) => '/' + escapePointer(t)).join('');
}
