import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { worldReadableProblem } from './file-mode.js';
import { escapePointer, type ConfigIssue } from './issues.js';

/**
 * Resolves `${env:NAME}` and `${file:path}` in every string of a parsed config, at load,
 * so secrets never sit inline in committed files. A missing variable or unreadable file is
 * a load issue naming it and the pointer where it was used. File paths resolve against the
 * config file's folder; their content is trimmed of a trailing newline.
 *
 * One grammar serves both sides of the trust boundary: the loader resolves REFERENCE in
 * files the operator owns, and the admin API refuses anything REFERENCE_LIKE matches in a
 * body (looksLikeReference). Both are built from the same opening and scheme spelling, and
 * REFERENCE_LIKE is the wider of the two (any case, blanks, any scheme word), so a spelling
 * the loader would resolve can never pass the refusal.
 */
const OPEN = '\\$\\{';
const SCHEME = '[a-z][a-z0-9_-]*';
const SCHEMES = ['env', 'file'] as const;
const REFERENCE = new RegExp(`${OPEN}(${SCHEMES.join('|')}):([^}]+)\\}`, 'g');
const REFERENCE_LIKE = new RegExp(`${OPEN}\\s*${SCHEME}\\s*:`, 'i');

/** True when `text` holds anything that is, or looks like, a reference the loader resolves from the machine. */
export function looksLikeReference(text: string): boolean {
  return REFERENCE_LIKE.test(text);
}

/** Shorter resolved values are not looked for in messages (they would match everywhere). */
const MIN_REDACTED_LENGTH = 4;

/**
 * What a load resolved: each secret value (and each line of a multi-line file) with the
 * reference that produced it, so that a message, a trace or a log line that would quote
 * the value shows the reference as written instead (redact).
 */
export class SecretLedger {
  private readonly spellings = new Map<string, string>();
  private ordered: [string, string][] | null = null;

  record(value: string, spelling: string): void {
    const parts = [value, ...value.split(/\r?\n/).map((line) => line.trim())];
    for (const part of parts) {
      if (part.length < MIN_REDACTED_LENGTH || this.spellings.has(part)) continue;
      this.spellings.set(part, spelling);
      this.ordered = null;
    }
  }

  /** `text` with every resolved value replaced by its reference, longest values first. */
  redact(text: string): string {
    if (this.spellings.size === 0) return text;
    this.ordered ??= [...this.spellings].sort(([a], [b]) => b.length - a.length);
    let out = text;
    for (const [value, spelling] of this.ordered) if (out.includes(value)) out = out.split(value).join(spelling);
    return out;
  }

  /** Each issue with its message redacted. */
  redactIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
    return issues.map((issue) => ({ ...issue, message: this.redact(issue.message) }));
  }
}

export interface SecretSources {
  env: Readonly<Record<string, string | undefined>>;
  baseDir: string;
  /** Where a `${file:…}` that every user can read is reported (file-mode.ts). */
  warnings?: ConfigIssue[];
  /** Records every resolved value, for messages to show the reference instead. */
  ledger?: SecretLedger;
}

export function resolveSecrets(value: unknown, file: string, sources: SecretSources, issues: ConfigIssue[], at = ''): unknown {
  if (typeof value === 'string') return value.includes('${') ? resolveString(value, file, sources, issues, at) : value;
  if (Array.isArray(value)) return value.map((v, i) => resolveSecrets(v, file, sources, issues, `${at}/${i}`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = resolveSecrets(v, file, sources, issues, `${at}/${escapePointer(key)}`);
    return out;
  }
  return value;
}

function resolveString(value: string, file: string, sources: SecretSources, issues: ConfigIssue[], at: string): string {
  return value.replace(REFERENCE, (whole, kind: string, name: string) => {
    const found = kind === 'env' ? envValue(whole, name, file, sources, issues, at) : fileValue(whole, name, file, sources, issues, at);
    if (found !== '') sources.ledger?.record(found, whole);
    return found;
  });
}

function envValue(whole: string, name: string, file: string, sources: SecretSources, issues: ConfigIssue[], at: string): string {
  const found = sources.env[name];
  if (found !== undefined) return found;
  issues.push({ file, pointer: at, code: 'CONFIG_SECRET', message: `environment variable ${name} is not set (referenced as ${whole})` });
  return '';
}

function fileValue(whole: string, name: string, file: string, sources: SecretSources, issues: ConfigIssue[], at: string): string {
  const path = isAbsolute(name) ? name : resolve(sources.baseDir, name);
  let text: string;
  try {
    text = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch {
    // Not the errno, not the resolved path: whoever reads the message learns nothing of the machine.
    issues.push({ file, pointer: at, code: 'CONFIG_SECRET', message: `the secret file of ${whole} cannot be read` });
    return '';
  }
  const exposed = sources.warnings && worldReadableProblem(path, 'a secret');
  if (exposed) sources.warnings?.push({ code: 'CONFIG_EXPOSED', file, pointer: at, message: exposed });
  return text;
}

/**
 * The JSON pointers of every key or string value of `value` that holds a reference: what the
 * admin API refuses in a body, and what a tenant's own pipe may not hold.
 */
export function referencePointers(value: unknown, at = '', out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (looksLikeReference(value)) out.push(at || '/');
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => referencePointers(v, `${at}/${i}`, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      const member = `${at}/${escapePointer(key)}`;
      if (looksLikeReference(key)) out.push(member);
      referencePointers(v, member, out);
    }
  }
  return out;
}
