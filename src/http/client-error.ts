import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { failureBody, refuse, type AuthpipeError } from '../errors.js';

/**
 * Requests node's HTTP parser rejects before any handler runs (a malformed Content-Length,
 * a bad header line) still get the contract's answer: a coded 403 with the failure body,
 * x-request-id and Cache-Control: no-store, then the connection is closed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(rawRefusal(refuse('INVALID_REQUEST', { detail: err.code ?? 'malformed HTTP' })));
}

/** A whole 403 answer with the failure body, written straight to a socket, closing it. */
export function rawRefusal(err: AuthpipeError): string {
  const requestId = randomUUID();
  const body = JSON.stringify(failureBody(err, requestId));
  const extra = Object.entries(err.headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (
    'HTTP/1.1 403 Forbidden\r\n' +
    'content-type: application/json; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${requestId}\r\n` +
    'cache-control: no-store\r\n' +
    extra +
    'connection: close\r\n\r\n' +
    body
  );
}
