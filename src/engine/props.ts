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

export function maskSecrets(props: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(props)) out[key] = isSecretName(key) ? '***' : (props[key] as string);
  return out;
}
