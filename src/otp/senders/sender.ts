import type { Logger } from 'pino';

/**
 * The delivery contract of otp-issue: one message per issued code, sent by the delivery queue
 * (otp/delivery.ts), never on the caller's time. `send` resolves once the message is handed
 * over, and rejects when it was not; the queue then retries it or moves it to its dead letters.
 */
export type OtpChannel = 'sms' | 'email';

export interface OtpMessage {
  tenant: string;
  recipient: string;
  channel: OtpChannel;
  code: string;
  transaction_id: string;
  /** ISO 8601, from the engine's clock. */
  at: string;
}

export interface OtpSender {
  readonly type: string;
  send(message: OtpMessage, log: Logger): Promise<void>;
  /** Releases what it holds open (a webhook's keep-alive sockets); called once its queue stopped. */
  close?(): void;
}
