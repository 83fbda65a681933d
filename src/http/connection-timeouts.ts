import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Closes connections that hold a slot without asking anything. Node bounds a request head
 * only once its first byte has come (headersTimeout, checked every 30 s), and never a
 * connection that sends nothing: 1,024 silent sockets from four addresses held every slot
 * for minutes. Here:
 * - a new connection must send a whole request head within `headMs` of opening, whatever
 *   it sends meanwhile (nothing, part of a head, one byte a minute);
 * - a kept-alive connection that sends nothing for `idleMs` after an answer is closed (node's
 *   keepAliveTimeout, which tells the client in `Keep-Alive: timeout` and closes 1 s later);
 * - a kept-alive connection that starts a head must finish it within `idleMs + 1 s + headMs`
 *   of the last answer (node refreshes the idle timer on every byte, so a dribble would
 *   otherwise never end).
 * The connection is dropped without an answer: whoever holds it silent is not waiting for one.
 */

export interface ConnectionTimeouts {
  readonly headMs: number;
  readonly idleMs: number;
}

/** HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER in node's _http_server.js. */
const KEEP_ALIVE_BUFFER_MS = 1000;

export type TimeoutReason = 'head_timeout' | 'idle_timeout';

interface Waiting {
  /** The pending timer, if one is pending; none while a request is in flight. */
  timer: NodeJS.Timeout | undefined;
  /** When the connection must have sent a whole head (performance.now() ms). */
  deadline: number;
  /** Requests whose answer is not done yet (pipelined ones included). */
  inFlight: number;
  /** Runs when an answer is done; one function per connection, not one per request. */
  readonly answered: () => void;
}

export function closeSilentConnections(server: Server, timeouts: ConnectionTimeouts, closed?: (reason: TimeoutReason) => void): void {
  const { headMs, idleMs } = timeouts;
  const waiting = new WeakMap<Socket, Waiting>();
  // A timer per connection that lives across its requests: a kept-alive connection's
  // requests move its deadline and leave the timer be; when the timer fires early it waits
  // out the rest. Clearing and setting a timer on every request of every connection cost
  // more than the rest of this bookkeeping.
  const check = (socket: Socket, state: Waiting) => {
    state.timer = undefined;
    if (socket.destroyed || state.inFlight > 0) return;
    const left = state.deadline - performance.now();
    if (left > 0) {
      state.timer = setTimeout(check, left, socket, state).unref();
      return;
    }
    closed?.('head_timeout');
    socket.destroy();
  };
  const waitFor = (socket: Socket, state: Waiting, ms: number) => {
    state.deadline = performance.now() + ms;
    state.timer ??= setTimeout(check, ms, socket, state).unref();
  };
  // Node closes an idle kept-alive connection 1 s after the timeout it advertises (against a
  // client reusing it just as it closes); a head is due `headMs` after that.
  const afterAnswerMs = idleMs + KEEP_ALIVE_BUFFER_MS + headMs;

  server.keepAliveTimeout = idleMs;
  // Node's own bounds stay behind ours, as a backstop: its header timer starts at a head's
  // first byte, ours earlier; a body gets 10 s after its head.
  server.headersTimeout = afterAnswerMs;
  server.requestTimeout = afterAnswerMs + 10_000;
  // With a listener here node leaves the socket to us; the socket timeout is only ever set
  // for keep-alive (server.timeout stays 0).
  server.on('timeout', (socket: Socket) => {
    closed?.('idle_timeout');
    socket.destroy();
  });

  server.on('connection', (socket: Socket) => {
    const state: Waiting = {
      timer: undefined,
      deadline: 0,
      inFlight: 0,
      answered: () => {
        state.inFlight -= 1;
        if (state.inFlight === 0 && !socket.destroyed) waitFor(socket, state, afterAnswerMs);
      },
    };
    waitFor(socket, state, headMs);
    waiting.set(socket, state);
    socket.once('close', () => clearTimeout(state.timer));
  });
  server.on('request', (req, res) => {
    const state = waiting.get(req.socket);
    if (!state) return;
    // A timer that fires while a request is in flight stops; the answer starts the next wait.
    state.inFlight += 1;
    // 'close' comes once per response; `on` rather than `once` spares a wrapper per request.
    res.on('close', state.answered);
  });
}
