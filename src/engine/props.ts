/**
 * Properties are flat string maps. They are null-prototype objects so that a caller's
 * `__proto__` or `constructor` key can never reach Object.prototype, and lookups never
 * fall through to inherited members.
 */
export type Props = Record<string, string>;

export function emptyProps(): Props {
  return Object.create(null) as Props;
}

export function propsFrom(source: Readonly<Record<string, string>>): Props {
  const out = emptyProps();
  for (const key of Object.keys(source)) out[key] = source[key] as string;
  return out;
}

export function hasProp(props: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(props, key);
}

/** Names whose values are secrets: masked in traces and logs wherever they appear. */
const SECRET_NAME = /pass(word)?|secret|otp|token|authorization|credential|^code$|pin$/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * The `prefix` option of valves that put a subject on the item (basic-auth, otp-verify,
 * totp-verify, idp-lookup): with `approver_`, a second identity lands beside the first
 * (`approver_sub`) instead of overwriting it.
 */
export const subjectPrefixSchema = {
  type: 'string',
  pattern: '^[A-Za-z0-9_]{0,32}$',
  default: '',
  description: 'Put before every property this valve sets (e.g. "approver_"), so a second identity does not overwrite the first.',
} as const;

/** Runs `write` against `props`, or with a prefix against a scratch object copied over under it. */
export function writePrefixed(props: Props, prefix: string, write: (target: Props) => void): void {
  if (prefix === '') {
    write(props);
    return;
  }
  const scratch = emptyProps();
  write(scratch);
  for (const name of Object.keys(scratch)) props[prefix + name] = scratch[name] as string;
}
