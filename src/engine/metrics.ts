/**
 * The metrics valves and helpers may count, without knowing prom-client. Each counter is
 * declared once here with its label names, so a valve cannot invent a series by typo and
 * the README table stays true. Add a line here (additively) to count something new.
 * Exported as `authpipe_<name>_total`.
 */
export const COUNTERS = {
  lockouts: { help: 'Accounts locked after too many failed credential checks.', labels: ['tenant'] },
  otp_issued: {
    help: 'One-time code requests answered (codes sent and the decoys of unknown recipients alike: the answer and this count never tell them apart).',
    labels: ['tenant', 'channel'],
  },
  otp_deliveries: {
    help: 'Delivery attempts of one-time codes from the queue, by result (delivered, retried, failed: moved to the dead-letter list).',
    labels: ['tenant', 'channel', 'result'],
  },
  otp_verified: {
    help: 'One-time codes checked, by result (ok, wrong_code, bad_transaction: unknown, expired, used or out of attempts; error).',
    labels: ['tenant', 'result'],
  },
  tokens_issued: { help: 'Tokens issued by token-mint, by kind (system, user: with a refresh token).', labels: ['tenant', 'kind'] },
  tokens_refreshed: { help: 'Refresh tokens exchanged.', labels: ['tenant'] },
  tokens_revoked: { help: 'Refresh-token families revoked, by reason (logout, reuse).', labels: ['tenant', 'reason'] },
  store_counters_evicted: { help: 'Memory store: counters dropped to make room (expired, or back at zero).', labels: [] },
  store_counters_refused: {
    help: 'Memory store: new counters refused because the table was full of live counts (the call is refused: fail closed).',
    labels: [],
  },
  oidc_interactions_refused: {
    help: 'OpenID Connect: sign-ins refused at /auth, by reason (rate_limited: the per-address limit; full: the pending cap).',
    labels: ['tenant', 'reason'],
  },
  store_errors: { help: 'Store operations that failed (rejected), by operation.', labels: ['op'] },
  refusals_held: {
    help: 'RATE_LIMITED refusals of a rate-limit with refusal_delay_ms, by result (held: answered after the delay; cap_full: answered at once, the process already held its maximum).',
    labels: ['tenant', 'result'],
  },
} as const satisfies Record<string, { help: string; labels: readonly string[] }>;

export type CounterName = keyof typeof COUNTERS;
type CounterLabels<N extends CounterName> = { readonly [K in (typeof COUNTERS)[N]['labels'][number]]?: string };

export interface Metrics {
  /** Adds `by` (default 1) to a declared counter. Never throws: metrics must not fail a call. */
  inc<N extends CounterName>(name: N, labels?: CounterLabels<N>, by?: number): void;
}

/** For tools that collect nothing (validate, the dry-run CLI, unit tests). */
export const noopMetrics: Metrics = { inc() {} };
