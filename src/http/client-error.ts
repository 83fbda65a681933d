import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { failureBody, refuse } from '../errors.js';

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
  const requestId = randomUUID();
  const body = JSON.stringify(failureBody(refuse('INVALID_REQUEST', { detail: err.code ?? 'malformed HTTP' }), requestId));
  socket.end(
    'HTTP/1.1 403 Forbidden\r\n' +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${requestId}\r\n` +
      'cache-control: no-store\r\n' +
      'connection: close\r\n\r\n' +
      body,
  );
}
