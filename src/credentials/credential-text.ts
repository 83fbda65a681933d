/**
 * Checks on a user id or password, whichever way it arrived (Basic header, body, CLI):
 * no control characters (RFC 7617 section 2 forbids them; a NUL truncates in C-based
 * hashers), a byte cap checked before any hashing, and Unicode NFC so that the same
 * password typed on two keyboards hashes the same (RFC 7613 OpaqueString).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

export type TextProblem = 'empty' | 'control_character' | 'too_long';

export function credentialTextProblem(value: string, maxBytes: number): TextProblem | null {
  if (value.length === 0) return 'empty';
  // A UTF-16 unit is at most 3 UTF-8 bytes: skip the byte count for clearly short values,
  // and refuse clearly long ones before scanning them.
  if (value.length > maxBytes) return 'too_long';
  if (value.length * 3 > maxBytes && Buffer.byteLength(value, 'utf8') > maxBytes) return 'too_long';
  if (CONTROL.test(value)) return 'control_character';
  return null;
}

export function normalizeCredential(value: string): string {
  return value.normalize('NFC');
}
