/**
 * HOTP (RFC 4226) and TOTP (RFC 6238) over node:crypto, plus the RFC 4648 base32 that
 * authenticator apps use for secrets. Pure functions: no clock, no store. The counter is
 * written as a full 64-bit big-endian integer, so steps past 2^32 (year 2106+, and the RFC's
 * 20000000000 vector) are right.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';
export const TOTP_ALGORITHMS: readonly TotpAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];

/** Secret sizes RFC 6238 uses per hash (the HMAC block-friendly key length). */
export const SECRET_BYTES: Readonly<Record<TotpAlgorithm, number>> = { SHA1: 20, SHA256: 32, SHA512: 64 };

const HMAC_NAME: Readonly<Record<TotpAlgorithm, string>> = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };

export function hotp(secret: Buffer, counter: number | bigint, digits = 6, algorithm: TotpAlgorithm = 'SHA1'): string {
  // Nine digits at most: a tenth would only ever be 0, 1 or 2 (the value is under 2^31).
  if (!Number.isInteger(digits) || digits < 6 || digits > 9) throw new RangeError(`digits must be 6..9, got ${digits}`);
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(HMAC_NAME[algorithm], secret).update(message).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

export interface TotpOptions {
  digits?: number;
  algorithm?: TotpAlgorithm;
  /** Step length in seconds (RFC 6238 X); 30 by default. */
  period?: number;
}

/** The time step that contains `timeMs` (RFC 6238 T, with T0 = 0). */
function totpStep(timeMs: number, period = 30): number {
  return Math.floor(timeMs / 1000 / period);
}

export function totp(secret: Buffer, timeMs: number, options: TotpOptions = {}): string {
  return hotp(secret, totpStep(timeMs, options.period), options.digits, options.algorithm);
}

/**
 * Checks `code` against every step in [now - window, now + window] and returns the matched
 * step, or null. Every candidate is computed and compared in constant time, so the answer
 * time says nothing about which step (if any) matched. `code` must already be well formed.
 */
export function matchTotp(secret: Buffer, code: string, timeMs: number, options: TotpOptions & { window?: number } = {}): number | null {
  const digits = options.digits ?? 6;
  const window = options.window ?? 1;
  const given = Buffer.from(code, 'latin1');
  const current = totpStep(timeMs, options.period);
  let matched: number | null = null;
  for (let step = current - window; step <= current + window; step++) {
    if (step < 0) continue;
    const expected = Buffer.from(hotp(secret, step, digits, options.algorithm), 'latin1');
    if (expected.length === given.length && timingSafeEqual(expected, given) && matched === null) matched = step;
  }
  return matched;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes base32 as authenticator apps write it: case-insensitive, spaces and `=` padding
 * ignored. Returns null for any other character, or trailing bits that are not zero
 * (a sign of a truncated or mistyped secret).
 */
export function base32Decode(text: string): Buffer | null {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) return null;
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  if (bits >= 5 || (value & ((1 << bits) - 1)) !== 0) return null;
  return Buffer.from(out);
}
