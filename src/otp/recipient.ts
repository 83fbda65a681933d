/**
 * Recipients: format checks per channel, and the key rate limits count under. The key is a
 * hash, so the store holds no phone numbers or addresses in its key names, and every key has
 * the same bounded length whatever the caller sent.
 */
import { createHash } from 'node:crypto';
import type { OtpChannel } from './senders/index.js';

const E164 = /^\+[1-9][0-9]{6,14}$/;
// Deliberately plain: one @, no spaces or controls, a dot in the domain, at most 254 chars.
const EMAIL = /^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u;

/** The canonical form of a recipient, or null when it is not one for this channel. */
export function normalizeRecipient(channel: OtpChannel, value: string): string | null {
  if (channel === 'sms') return E164.test(value) ? value : null;
  if (value.length > 254) return null;
  return EMAIL.test(value) ? value.toLowerCase() : null;
}

export function recipientKey(channel: OtpChannel, recipient: string): string {
  return createHash('sha256').update(`${channel}\n${recipient}`).digest('base64url');
}
