import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { worldReadableProblem } from './file-mode.js';
import { escapePointer, type ConfigIssue } from './issues.js';

/**
 * Resolves `${env:NAME}` and `${file:path}` in every string of a parsed config, at load,
 * so secrets never sit inline in committed files. A missing variable or unreadable file is
 * a load issue naming it and the pointer where it was used. File paths resolve against the
 * config file's folder; their content is trimmed of a trailing newline.
 */
const REFERENCE = /\$\{(env|file):([^}]+)\}/g;

export interface SecretSources {
  env: Readonly<Record<string, string | undefined>>;
  baseDir: string;
  /** Where a `${file:…}` that every user can read is reported (file-mode.ts). */
  warnings?: ConfigIssue[];
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
    if (kind === 'env') {
      const found = sources.env[name];
      if (found === undefined) {
        issues.push({
          file,
          pointer: at,
          code: 'CONFIG_SECRET',
          message: `environment variable ${name} is not set (referenced as ${whole})`,
        });
        return '';
      }
      return found;
    }
    const path = isAbsolute(name) ? name : resolve(sources.baseDir, name);
    try {
      const text = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      const exposed = sources.warnings && worldReadableProblem(path, 'a secret');
      if (exposed) sources.warnings?.push({ file, pointer: at, message: exposed });
      return text;
    } catch (err) {
      issues.push({
        file,
        pointer: at,
        code: 'CONFIG_SECRET',
        message: `cannot read secret file ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      });
      return '';
    }
  });
}
