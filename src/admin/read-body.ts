/**
 * Request bodies of the admin API: JSON objects of at most 64 KiB, parsed as strictly as the
 * authentication API's bodies (strict-json.ts). Every admin body of every area passes here,
 * so a `${…}` secret reference anywhere in one is refused here (SECRET_REFERENCE,
 * secret-references.ts), for every route at once.
 */
import type { IncomingMessage } from 'node:http';
import { parseStrictJson, StrictJsonError } from '../http/strict-json.js';
import { AdminError } from './admin-error.js';
import { refuseSecretReferences } from './secret-references.js';

const MAX_BODY_BYTES = 64 * 1024;
/** ignoreBOM keeps a byte order mark in the text, where the strict parser refuses it. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** The parsed body, or undefined when there is none. */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new AdminError('PAYLOAD_TOO_LARGE', `the body is over ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new AdminError('PAYLOAD_TOO_LARGE', `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const type = req.headersDistinct['content-type'];
  if (!type || type.length !== 1 || !JSON_TYPE.test(type[0] as string))
    throw new AdminError('UNSUPPORTED_MEDIA_TYPE', 'send the body as Content-Type: application/json');
  let text: string;
  try {
    text = UTF8.decode(Buffer.concat(chunks));
  } catch {
    throw new AdminError('BAD_BODY', 'the body is not valid UTF-8');
  }
  let body: unknown;
  try {
    body = parseStrictJson(text);
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err;
    throw new AdminError(
      'BAD_BODY',
      `the body is not strict JSON: ${err.message} (duplicate keys, __proto__, a byte order mark and lone surrogates are refused)`,
      err.pointer ? [err.pointer] : [],
    );
  }
  refuseSecretReferences(body);
  return body;
}
