import type { IncomingMessage } from 'node:http';
import { refuse, type AuthpipeError } from '../errors.js';

/**
 * Reads the body as UTF-8 text, up to `limit` bytes, then calls `done` once: with the text, or
 * with the refusal. A declared Content-Length over the limit is refused before reading (`done`
 * is then called at once); a streamed body is refused the moment it passes the limit. Invalid
 * UTF-8 is refused (fatal decoder), never replaced. A callback rather than a promise: the PUT
 * door reads a body on every call, and a promise and its await were two of the call's ten.
 * `done` must not throw: it runs inside the request's stream events.
 */
// ignoreBOM keeps a leading U+FEFF in the text, so the strict parser refuses it instead of
// the decoder silently dropping it.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export type BodyDone = (error: AuthpipeError | undefined, text: string) => void;

export function readBody(req: IncomingMessage, limit: number, done: BodyDone): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    done(refuse('PAYLOAD_TOO_LARGE', { detail: `content-length ${declared} over ${limit}` }), '');
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size > limit) {
      cleanup();
      done(refuse('PAYLOAD_TOO_LARGE', { detail: `body over ${limit} bytes` }), '');
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = (): void => {
    cleanup();
    let text: string;
    try {
      text = decoder.decode(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    } catch {
      done(refuse('INVALID_REQUEST', { detail: 'body is not valid UTF-8' }), '');
      return;
    }
    done(undefined, text);
  };
  const onError = (err: Error): void => {
    cleanup();
    done(refuse('INVALID_REQUEST', { detail: `body could not be read: ${err.message}` }), '');
  };
  const cleanup = (): void => {
    req.off('data', onData).off('end', onEnd).off('error', onError);
  };
  req.on('data', onData).on('end', onEnd).on('error', onError);
}
