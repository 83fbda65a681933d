/**
 * How many connections a listener keeps and how long it waits for them: the same settings on
 * every public listener (http_configuration[]) and on the management listener. An open
 * connection costs memory and a slot under the caps even while it sends nothing, so a
 * connection that does not send a whole request head in time is closed, and the caps are
 * such that a few addresses can never take every slot (PER_ADDRESS_SHARE). Read at start.
 */

/** At most this share of the total cap per address: at least this many addresses, each at its cap, to fill the listener. */
const PER_ADDRESS_SHARE = 16;

export const connectionProperties = {
  max_connections: {
    type: 'integer',
    minimum: 0,
    maximum: 1000000,
    default: 1024,
    description:
      'Open connections this listener keeps at most (per process); more are answered 403 RATE_LIMITED and closed. 0: no cap. Read at start.',
  },
  max_connections_per_address: {
    type: 'integer',
    minimum: 0,
    maximum: 1000000,
    default: 64,
    description: `Open connections from one client address (the socket address: behind a proxy, the proxy) at most; at most max_connections / ${PER_ADDRESS_SHARE}, so that no fewer than ${PER_ADDRESS_SHARE} addresses can fill the listener. 0: no cap (behind a proxy). Read at start.`,
  },
  head_timeout_ms: {
    type: 'integer',
    minimum: 100,
    maximum: 600000,
    default: 10000,
    description:
      'A new connection that has not sent a whole request head this long after it opened is closed, whether it sent part of one, one byte a minute or nothing at all. On a kept-alive connection the next head must be whole within idle_timeout_ms + head_timeout_ms of the last answer. Read at start.',
  },
  idle_timeout_ms: {
    type: 'integer',
    minimum: 100,
    maximum: 600000,
    default: 5000,
    description:
      'A kept-alive connection that sends nothing this long after an answer is closed (sent as Keep-Alive: timeout). Read at start.',
  },
} as const;

interface ConnectionSettings {
  readonly max_connections: number;
  readonly max_connections_per_address: number;
}

/** What is wrong with a listener's caps, or null: the per-address cap may not let a handful of addresses fill the total. */
export function connectionCapsProblem(settings: ConnectionSettings): string | null {
  const { max_connections: total, max_connections_per_address: perAddress } = settings;
  if (total === 0 || perAddress === 0 || perAddress * PER_ADDRESS_SHARE <= total) return null;
  return `at most max_connections / ${PER_ADDRESS_SHARE} (${Math.floor(total / PER_ADDRESS_SHARE)}), so that fewer than ${PER_ADDRESS_SHARE} addresses cannot fill the listener; 0 for no cap per address (behind a proxy)`;
}
