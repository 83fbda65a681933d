/**
 * How a password is normalised before a source checks it: one rule per source, set in its
 * config. `nfc`: Unicode NFC, so the same password typed on two keyboards (a precomposed é
 * or e + combining accent) checks the same (RFC 8265 OpaqueString); right for hashes made by
 * `authpipe hash-password`, which stores NFC. `none`: passed through byte for byte, for a
 * system that compares what it was given (an LDAP server binding, an adapter, hashes
 * imported from a system that did not normalise). Defaults keep each source's behaviour:
 * basic-auth `nfc`, LDAP and the HTTP adapter `none`.
 */
export type PasswordForm = 'nfc' | 'none';

export function passwordFormSchema(defaultForm: PasswordForm) {
  return {
    enum: ['nfc', 'none'],
    default: defaultForm,
    description: 'How the password is normalised before it is checked: nfc (Unicode NFC) or none (as sent).',
  } as const;
}

export function normalizePassword(form: PasswordForm | undefined, fallback: PasswordForm): (password: string) => string {
  return (form ?? fallback) === 'nfc' ? (password) => password.normalize('NFC') : (password) => password;
}
