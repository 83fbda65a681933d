import type { IncomingMessage } from 'node:http';
import { refuse, type AuthpipeError } from '../errors.js';
import { headerValues } from '../engine/headers.js';

/**
 * Checks every request passes before any route sees it, whatever its path, so that odd
 * requests get the contract's coded 403 rather than a bare status from node or express:
 * - the request target: origin-form (`/path`) as usual; absolute-form (`http://host/path`,
 *   which HTTP/1.1 servers must accept) is rewritten to its path when it parses, and refused
 *   when it does not (a bad port, a broken IPv6 literal), instead of a 500 further on;
 * - the Host header: exactly one, not empty (node's own check answers a bare 400), except
 *   that HTTP/1.0 may leave it out;
 * - the number of header lines: node would otherwise silently drop those past its limit,
 *   and a doubled `tenant` or `Authorization` past it would escape the doubled-header
 *   refusal. Node's own limit is lifted (maxHeadersCount 0; the 16 KiB header size still
 *   bounds the total) and anything over MAX_HEADER_LINES is refused whole.
 */

/** More header lines than any real client sends; far fewer than fit in 16 KiB. */
const MAX_HEADER_LINES = 100;

export function checkRequestEdges(req: IncomingMessage): AuthpipeError | null {
  const raw = req.rawHeaders;
  if (raw.length > MAX_HEADER_LINES * 2) return refuse('INVALID_REQUEST', { detail: `more than ${MAX_HEADER_LINES} header lines` });
  // Host lines found in rawHeaders: req.headersDistinct would build a second header object
  // on every request for this one question.
  const hosts = headerValues(raw, 'host');
  // HTTP/1.0 has no Host requirement; from 1.1 on it is one, non-empty.
  const hostless = hosts === undefined && req.httpVersion === '1.0';
  if (!hostless && (hosts?.length !== 1 || (hosts[0] as string).trim() === ''))
    return refuse('INVALID_REQUEST', { detail: 'exactly one non-empty Host header is required', erroneousProperties: ['host'] });
  const url = req.url ?? '';
  if (url.charCodeAt(0) === 0x2f /* / */) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse('INVALID_REQUEST', { detail: 'malformed request target' });
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.username !== '' || parsed.password !== '') {
    return refuse('INVALID_REQUEST', { detail: 'request target is not an http(s) URL without credentials' });
  }
  req.url = parsed.pathname + parsed.search;
  return null;
}
