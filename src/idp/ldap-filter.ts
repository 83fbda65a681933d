/**
 * LDAP search filters built from a template such as `(&(objectClass=person)(uid={{request.username}}))`.
 * Only the values that fill the placeholders are escaped, per RFC 4515 section 3: `*`, `(`,
 * `)`, `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`, so a caller's username can never
 * add a wildcard, close a clause or open a new one. Other characters, UTF-8 included, are
 * legal in an assertion value and pass unchanged (escaping UTF-8 bytes one by one would make
 * ldapts re-encode them as Latin-1 code points).
 */
import type { Scope } from '../engine/scope.js';
import type { CompileTools } from '../engine/valve.js';
import type { Template } from '../engine/template.js';

const SPECIAL = /[*()\\\0]/g;
const ESCAPES: Readonly<Record<string, string>> = { '*': '\\2a', '(': '\\28', ')': '\\29', '\\': '\\5c', '\0': '\\00' };

export function escapeFilterValue(value: string): string {
  return value.replace(SPECIAL, (c) => ESCAPES[c] as string);
}

export interface FilterTemplate {
  /** The filter with every placeholder value escaped; null when a placeholder rendered empty. */
  render(scope: Scope): string | null;
  /** The filter with each placeholder replaced by `sample`, for a syntax check at load. */
  sample(sample: string): string;
}

const PLACEHOLDER = /\{\{[^{}]*\}\}/g;

export function compileFilterTemplate(source: string, tools: CompileTools, at: string): FilterTemplate {
  tools.template(source, at); // the engine's own syntax check, so errors read like every other template's
  const parts: (string | Template)[] = [];
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push(source.slice(last, match.index));
    parts.push(tools.template(match[0], at));
    last = match.index + match[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  return {
    render(scope) {
      let out = '';
      for (const part of parts) {
        if (typeof part === 'string') {
          out += part;
          continue;
        }
        // An empty value would turn `(uid=…)` into an assertion nobody meant to make.
        const value = part.render(scope);
        if (value === '') return null;
        out += escapeFilterValue(value);
      }
      return out;
    },
    sample(sample) {
      return parts.map((p) => (typeof p === 'string' ? p : sample)).join('');
    },
  };
}
