import { existsSync, readFileSync } from 'node:fs';
import type { OtpMessage } from '../../src/otp/senders/index.js';

/** Every message an outbox sender wrote to `file`, oldest first. */
export function readOutbox(file: string): OtpMessage[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as OtpMessage);
}

/**
 * The message sent for one transaction, once the delivery queue has written it (codes are
 * delivered after the answer, off the caller's time); fails the test when none comes.
 */
export async function messageFor(file: string, transactionId: string, timeoutMs = 3000): Promise<OtpMessage> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = readOutbox(file).find((m) => m.transaction_id === transactionId);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no outbox message for transaction ${transactionId}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The code sent for one transaction (see messageFor). */
export async function codeFor(file: string, transactionId: string): Promise<string> {
  return (await messageFor(file, transactionId)).code;
}

/** The outbox once it holds at least `count` messages. */
export async function outboxOf(file: string, count: number, timeoutMs = 3000): Promise<OtpMessage[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = readOutbox(file);
    if (messages.length >= count || Date.now() > deadline) return messages;
    await new Promise((r) => setTimeout(r, 10));
  }
}
