import type { ErrorObject } from 'ajv';
import type { ConfigIssue } from './issues.js';

/** Turns ajv errors into issues whose pointer is the offending place in the file. */
export function ajvIssues(file: string, base: string, errors: readonly ErrorObject[] | null | undefined): ConfigIssue[] {
  if (!errors) return [];
  const seen = new Set<string>();
  const out: ConfigIssue[] = [];
  for (const e of errors) {
    // if/then branches repeat the real error as "must match then schema"; it adds nothing.
    if (e.keyword === 'if') continue;
    const pointer = base + e.instancePath;
    const message = describe(e);
    const key = `${pointer} ${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ file, pointer, message, code: 'CONFIG_SCHEMA' });
  }
  return out;
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown property "${String(p.additionalProperty)}"`;
    case 'required':
      return `missing required property "${String(p.missingProperty)}"`;
    case 'enum':
      return `must be one of ${JSON.stringify(p.allowedValues)}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    default:
      return e.message ?? e.keyword;
  }
}
