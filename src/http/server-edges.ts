import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { failureBody, refuse, type AuthpipeError } from '../errors.js';
import { rawRefusal } from './client-error.js';
import type { TimeoutReason } from './connection-timeouts.js';
import { requestIdOf } from './request-id.js';
import { baseHeaders, sendJson } from './respond.js';

/**
 * What a listening node:http server does before any request handler runs, made to answer
 * the contract's way (a coded 403 with x-request-id and Cache-Control: no-store, then the
 * connection closed) instead of node's bare statuses or silence:
 * - `Expect` other than 100-continue: node answers a bare 417;
 * - `CONNECT`: node answers nothing at all and drops the socket;
 * - connections over the listener's caps, in total and per client address (each open
 *   connection costs memory even while it sends nothing: 5,000 half-sent bodies held
 *   143 MB). Refused connections are counted by reason.
 * The request-level checks (target, Host, header count) are in request-edges.ts; connections
 * that send nothing in time are closed by connection-timeouts.ts.
 */

export interface ConnectionCaps {
  /** 0: no cap. */
  readonly total: number;
  readonly perAddress: number;
}

export interface ServerEdgeObservers {
  /** A connection refused by a cap. */
  refused?(reason: 'total' | 'per_address'): void;
  /** A connection closed for sending no whole request head in time, or for idling (connection-timeouts.ts). */
  closed?(reason: TimeoutReason): void;
  /** The number of open connections changed. */
  open?(count: number): void;
}

function refuseSocket(socket: Duplex, err: AuthpipeError): void {
  if (!socket.writable) return void socket.destroy();
  socket.end(rawRefusal(err));
  // Whatever the client still sends is not read; the socket goes once the answer is out.
  setTimeout(() => socket.destroy(), 1000).unref();
}

export function hardenServer(server: Server, caps: ConnectionCaps, observers: ServerEdgeObservers = {}): void {
  // Node drops header lines past maxHeadersCount silently; request-edges.ts refuses instead.
  server.maxHeadersCount = 0;

  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const requestId = requestIdOf(req);
    baseHeaders(res, requestId);
    sendJson(res, 403, failureBody(refuse('INVALID_REQUEST', { detail: 'unsupported Expect' }), requestId), { connection: 'close' });
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) =>
    refuseSocket(socket, refuse('METHOD_NOT_ALLOWED', { detail: 'CONNECT' })),
  );

  const byAddress = new Map<string, number>();
  let open = 0;
  server.on('connection', (socket) => {
    const address = socket.remoteAddress ?? '';
    const mine = byAddress.get(address) ?? 0;
    const reason = caps.total > 0 && open >= caps.total ? 'total' : caps.perAddress > 0 && mine >= caps.perAddress ? 'per_address' : null;
    if (reason) {
      observers.refused?.(reason);
      refuseSocket(socket, refuse('RATE_LIMITED', { detail: `too many connections (${reason})`, headers: { 'retry-after': '1' } }));
      return;
    }
    open += 1;
    byAddress.set(address, mine + 1);
    observers.open?.(open);
    socket.once('close', () => {
      open -= 1;
      const left = (byAddress.get(address) ?? 1) - 1;
      if (left > 0) byAddress.set(address, left);
      else byAddress.delete(address);
      observers.open?.(open);
    });
  });
}
