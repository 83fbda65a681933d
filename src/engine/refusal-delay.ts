/**
 * Holding a refusal for a while before it is answered (rate-limit's `refusal_delay_ms`), as
 * pam_faildelay does for failed logins. A caller that waits for each answer before it sends
 * the next (a spray tool with a fixed set of connections, a script in a loop) is slowed to
 * the pace of the delay, and the server then spends on it a timer a second per connection
 * instead of hundreds of refusals a second. A caller that does not wait is not slowed; so
 * that it cannot make the server hold an unbounded number of answers (each an open
 * connection and its request), at most MAX_HELD_REFUSALS are held at once in a process, and
 * the rest are answered at once, as without a delay.
 */
export const MAX_HELD_REFUSALS = 1000;

let held = 0;

/** A promise that resolves after `ms`, or undefined when nothing is to be held (no delay, or the cap is reached). */
export function holdRefusal(ms: number): Promise<void> | undefined {
  if (!(ms > 0) || held >= MAX_HELD_REFUSALS) return undefined;
  held += 1;
  return new Promise((resolve) =>
    setTimeout(() => {
      held -= 1;
      resolve();
    }, ms),
  );
}

/** Refusals held now, in this process. */
export function heldRefusals(): number {
  return held;
}
