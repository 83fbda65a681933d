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

/** The code sent for one transaction; fails the test when none was sent. */
export function codeFor(file: string, transactionId: string): string {
  const found = readOutbox(file).find((m) => m.transaction_id === transactionId);
  if (!found) throw new Error(`no outbox message for transaction ${transactionId}`);
  return found.code;
}
