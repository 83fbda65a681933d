/**
 * Strict parsing of `Authorization: Basic` (RFC 7617). The scheme is case-insensitive; the
 * token must be canonical padded base64 (no base64url, no spaces, no missing padding, no
 * stray low bits), checked before decoding, with a length cap checked before anything; the
 * bytes must be valid UTF-8; user id and password split at the first colon, so a colon in
 * the password is kept.
 */
export type BasicResult = { ok: true; username: string; password: string } | { ok: false; problem: string };

const CREDENTIALS = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The longest base64 token carrying `maxBytes` of user id, colon and password. */
export function maxTokenLength(maxBytes: number): number {
  return 4 * Math.ceil(maxBytes / 3);
}

export function parseBasic(header: string, maxTokenChars: number): BasicResult {
  if (header.length > maxTokenChars + 64) return { ok: false, problem: 'authorization header too long' };
  const m = CREDENTIALS.exec(header);
  if (!m) return { ok: false, problem: 'malformed authorization header' };
  if ((m[1] as string).toLowerCase() !== 'basic') return { ok: false, problem: 'authorization scheme is not Basic' };
  const token = m[2] ?? '';
  if (token === '') return { ok: false, problem: 'Basic without credentials' };
  if (token.length > maxTokenChars) return { ok: false, problem: 'Basic credentials too long' };
  if (!BASE64.test(token)) return { ok: false, problem: 'Basic credentials are not canonical base64' };
  const bytes = Buffer.from(token, 'base64');
  if (bytes.toString('base64') !== token) return { ok: false, problem: 'Basic credentials are not canonical base64' };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, problem: 'Basic credentials are not valid UTF-8' };
  }
  const colon = text.indexOf(':');
  if (colon < 0) return { ok: false, problem: 'Basic credentials have no colon' };
  return { ok: true, username: text.slice(0, colon), password: text.slice(colon + 1) };
}
