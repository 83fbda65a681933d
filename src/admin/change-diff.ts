/**
 * What an admin change changed, for its audit event: each JSON member that differs between
 * the files before and after, as `{file, pointer, before, after}`. Secrets never enter it: a
 * member whose name looks secret (a hash, a secret, a password, a TOTP seed) or whose value
 * looks like a PHC hash is shown as "***", changed or not.
 */
import { relative } from 'node:path';
import { isSecretName } from '../engine/props.js';
import { escapePointer } from '../config-kit/issues.js';

const MASK = '***';
const PHC = /^\$(scrypt|argon2|2[aby]|pbkdf2)/;
const SECRET_MEMBER = /_hash$|secret|password|totp/i;
/** An audit event stays small: beyond this many members the diff says how many it left out. */
const MAX_MEMBERS = 50;

interface Difference {
  file: string;
  pointer: string;
  before?: unknown;
  after?: unknown;
}

export function changeDiff(files: ReadonlyMap<string, { before: string | null; after: string | null }>, baseDir: string): string {
  const out: Difference[] = [];
  for (const [path, { before, after }] of files) walk(relative(baseDir, path), '', parse(before), parse(after), false, out);
  const shown = out.slice(0, MAX_MEMBERS);
  return JSON.stringify(out.length > MAX_MEMBERS ? [...shown, { more: out.length - MAX_MEMBERS }] : shown);
}

function parse(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function walk(file: string, at: string, before: unknown, after: unknown, secret: boolean, out: Difference[]): void {
  if (isObject(before) && isObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)]))
      walk(file, `${at}/${escapePointer(key)}`, before[key], after[key], secret || SECRET_MEMBER.test(key) || isSecretName(key), out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((item, i) => walk(file, `${at}/${i}`, item, after[i], secret, out));
    return;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  out.push({
    file,
    pointer: at,
    ...(before === undefined ? {} : { before: masked(before, secret) }),
    ...(after === undefined ? {} : { after: masked(after, secret) }),
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The value with every secret member and PHC hash in it replaced by the mask. */
function masked(value: unknown, secret: boolean): unknown {
  if (secret) return MASK;
  if (typeof value === 'string') return PHC.test(value) ? MASK : value;
  if (Array.isArray(value)) return value.map((v) => masked(v, false));
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, SECRET_MEMBER.test(k) || isSecretName(k))]));
  return value;
}
