/**
 * `${file:…}`, `${env:…}` and anything else the loader would resolve from the machine are
 * the operator's, in files on disk: in a body sent to the admin API they would let whoever
 * holds an admin token read files and environment through the config (a pipe answering the
 * signing key). readBody refuses them in every string of every body, keys included, after
 * the JSON is parsed (so `\u0024\u007b` escapes are seen decoded), before any route reads it.
 */
import { referencePointers } from '../config-kit/secrets.js';
import { AdminError } from './admin-error.js';

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
