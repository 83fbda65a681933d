import type { IncomingMessage } from 'node:http';
import { refuse } from '../errors.js';

/**
 * Reads the body as UTF-8 text, up to `limit` bytes. A declared Content-Length over the
 * limit is refused before reading; a streamed body is refused the moment it passes the
 * limit. Invalid UTF-8 is refused (fatal decoder), never replaced.
 */
// ignoreBOM keeps a leading U+FEFF in the text, so the strict parser refuses it instead of
// the decoder silently dropping it.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(refuse('PAYLOAD_TOO_LARGE', { detail: `content-length ${declared} over ${limit}` }));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(refuse('PAYLOAD_TOO_LARGE', { detail: `body over ${limit} bytes` }));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      try {
        resolve(decoder.decode(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
      } catch {
        reject(refuse('INVALID_REQUEST', { detail: 'body is not valid UTF-8' }));
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(refuse('INVALID_REQUEST', { detail: `body could not be read: ${err.message}` }));
    };
    const cleanup = (): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}
