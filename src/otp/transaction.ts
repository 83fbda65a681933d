/**
 * The OTP transaction as kept in the store, and the hashing of its code.
 *
 * Why HMAC-SHA256 with a per-transaction salt, and not a slow hash: a 6-digit code has 10^6
 * values, so no hash, slow or fast, stops someone who reads a record from trying them all;
 * what protects a code is its 5-minute life, its few attempts and single use. Hashing keeps
 * codes out of store dumps, backups and debug output, and the salt makes each record its own
 * search (no table across records). The MAC input binds the code to its tenant and
 * transaction id, so a record copied under another tenant's prefix or another id never
 * verifies. SHA-256 costs about a microsecond: verifying stays off the hot path's budget.
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { OtpChannel } from './senders/index.js';

export interface OtpRecord {
  v: 1;
  /** base64url HMAC-SHA256 of the code. */
  h: string;
  /** base64url salt (the HMAC key). */
  s: string;
  /** Directory user id; empty when the transaction is for a bare recipient. */
  u: string;
  /** Recipient and channel the code went to. */
  r: string;
  c: OtpChannel;
  /** Code length. */
  d: number;
  /** Expiry, ms since the epoch (the store TTL enforces it too). */
  e: number;
  /**
   * What the issuing pipe was for, set from its config and never from the outcome of the
   * lookup (a decoy says "user" too): `user` (a directory user) or `recipient` (a bare
   * address). Absent in records written before it existed: read from `u`.
   */
  k?: 'user' | 'recipient';
  /** The operation that issued it; otp-verify's `issued_by` names the ones it accepts. */
  o?: string;
  /**
   * What the code is for (otp-issue's `purpose`); otp-verify's `purposes` names the ones it
   * accepts. Absent in records written before it existed: read as the default, `sign-in`.
   */
  p?: string;
}

/** A purpose name: what otp-issue's `purpose` and otp-verify's `purposes` hold. */
export const PURPOSE_PATTERN = '^[a-z0-9][a-z0-9-]{0,39}$';

export function transactionPurpose(record: OtpRecord): string {
  return record.p ?? 'sign-in';
}

export function transactionKind(record: OtpRecord): 'user' | 'recipient' {
  return record.k ?? (record.u === '' ? 'recipient' : 'user');
}

/** 192 random bits, base64url: 32 characters. */
export const TRANSACTION_ID = /^[A-Za-z0-9_-]{32}$/;

export function newTransactionId(): string {
  return randomBytes(24).toString('base64url');
}

/** A uniform code of `digits` decimal digits from the CSPRNG (randomInt rejects modulo bias). */
export function newCode(digits: number): string {
  return String(randomInt(0, 10 ** digits)).padStart(digits, '0');
}

export function txKey(id: string): string {
  return `otp:tx:${id}`;
}

export function attemptsKey(id: string): string {
  return `otp:tries:${id}`;
}

function mac(salt: Buffer, tenant: string, id: string, code: string): Buffer {
  return createHmac('sha256', salt).update(`${tenant}\n${id}\n${code}`).digest();
}

export function sealCode(tenant: string, id: string, code: string): { h: string; s: string } {
  const salt = randomBytes(16);
  return { h: mac(salt, tenant, id, code).toString('base64url'), s: salt.toString('base64url') };
}

/** A hash no code produces: what an unknown recipient's decoy transaction holds. */
export function decoySeal(): { h: string; s: string } {
  return { h: randomBytes(32).toString('base64url'), s: randomBytes(16).toString('base64url') };
}

export function codeMatches(record: OtpRecord, tenant: string, id: string, code: string): boolean {
  const expected = Buffer.from(record.h, 'base64url');
  const actual = mac(Buffer.from(record.s, 'base64url'), tenant, id, code);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Parses a stored record; anything malformed is a fault (someone else wrote the key). */
export function parseRecord(text: string): OtpRecord {
  const value = JSON.parse(text) as OtpRecord;
  if (
    value === null ||
    typeof value !== 'object' ||
    value.v !== 1 ||
    typeof value.h !== 'string' ||
    typeof value.s !== 'string' ||
    typeof value.d !== 'number' ||
    typeof value.e !== 'number'
  ) {
    throw new Error('malformed OTP transaction record in the store');
  }
  return value;
}
