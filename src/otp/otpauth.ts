/**
 * Enrolment material for authenticator apps: a fresh secret (RFC 6238 key size per hash)
 * and its otpauth:// URI (the Key Uri Format apps scan from a QR code).
 */
import { randomBytes } from 'node:crypto';
import { base32Encode, SECRET_BYTES, type TotpAlgorithm } from './hotp.js';

export interface Enrolment {
  secret: string;
  uri: string;
}

export interface EnrolOptions {
  account: string;
  issuer: string;
  algorithm: TotpAlgorithm;
  digits: number;
  period: number;
}

function otpauthUri(secret: string, o: EnrolOptions): string {
  const label = `${encodeURIComponent(o.issuer)}:${encodeURIComponent(o.account)}`;
  const query = new URLSearchParams({
    secret,
    issuer: o.issuer,
    algorithm: o.algorithm,
    digits: String(o.digits),
    period: String(o.period),
  });
  return `otpauth://totp/${label}?${query.toString().replace(/\+/g, '%20')}`;
}

export function enrol(options: EnrolOptions): Enrolment {
  const secret = base32Encode(randomBytes(SECRET_BYTES[options.algorithm]));
  return { secret, uri: otpauthUri(secret, options) };
}
