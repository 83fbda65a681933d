/**
 * outbox: appends each message as one JSON line to a file, for the demo, the tests and the
 * benchmark (they read the code back from it). A relative path resolves against the working
 * folder, as the README documents, so `var/otp-outbox.jsonl` lands beside the checkout's
 * git-ignored var/. The folder is created on the first send, not at load: `authpipe validate`
 * writes nothing. One appendFile per message is one O_APPEND write, so parallel sends never
 * interleave inside a line.
 */
import { appendFile } from 'node:fs/promises';
import { makeFolder } from '../../config-kit/make-folder.js';
import { dirname, resolve } from 'node:path';
import type { OtpSender } from './sender.js';

export const DEFAULT_OUTBOX = 'var/otp-outbox.jsonl';

export function outboxSender(file: string = DEFAULT_OUTBOX): OtpSender {
  const path = resolve(process.cwd(), file);
  let ready: Promise<unknown> | null = null;
  return {
    type: 'outbox',
    async send(message) {
      ready ??= makeFolder(dirname(path)).catch((err: unknown) => {
        ready = null; // a later send may find the folder fixed
        throw err;
      });
      await ready;
      await appendFile(path, `${JSON.stringify(message)}\n`, { mode: 0o600 });
    },
  };
}
