/**
 * `${file:…}`, `${env:…}` and anything else the loader would resolve from the machine are
 * the operator's, in files on disk: in a body sent to the admin API they would let whoever
 * holds an admin token read files and environment through the config (a pipe answering the
 * signing key). readBody refuses them in every string of every body, keys included, after
 * the JSON is parsed (so `\u0024\u007b` escapes are seen decoded), before any route reads it.
 */
import { escapePointer } from '../config-kit/issues.js';
import { looksLikeReference } from '../config-kit/secrets.js';
import { AdminError } from './admin-error.js';

/** The JSON pointers of every key or string value of `value` that holds a reference. */
function referencePointers(value: unknown, at = '', out: string[] = []): string[] {
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

/** A 422 SECRET_REFERENCE naming every place of `body` that holds a reference; the same answer whatever the reference names. */
export function refuseSecretReferences(body: unknown): void {
  const pointers = [...new Set(referencePointers(body))];
  if (pointers.length === 0) return;
  throw new AdminError(
    'SECRET_REFERENCE',
    '${…} references (${env:…}, ${file:…}) are resolved only in files the operator edits on disk; the admin API refuses them',
    pointers,
  );
}
