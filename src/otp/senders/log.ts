/**
 * log: writes the code to the application log. For development only: a code in a log is a
 * code anyone with log access can use, so the sender factory refuses it when NODE_ENV is
 * production (a load error, never a silent fallback).
 */
import type { OtpSender } from './sender.js';

export function logSender(): OtpSender {
  return {
    type: 'log',
    async send(message, log) {
      log.warn({ otp_delivery: { ...message } }, 'one-time code (log sender: development only)');
    },
  };
}
