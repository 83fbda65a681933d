// Where the true median of a figure lies, from its rounds alone: the order statistics that
// bracket it with at least `confidence`, from the binomial distribution (no assumption on how
// a round's figure is spread). With 9 rounds that is the 2nd to the 8th smallest (96%); with
// 5, the smallest to the largest (94%). On a shared host a round's ratio swings by ±20%, so a
// figure close to its target is judged by this interval, not by its median alone.

/** [low, high, coverage] of `values`' median, or undefined with fewer than 5 values. */
export function medianInterval(values, confidence = 0.9) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  // P(X < k) for X ~ Binomial(n, 1/2): the chance the kth smallest lies above the median.
  let below = 0;
  let choose = 1; // C(n, i)
  let best;
  for (let k = 1; k <= Math.floor(n / 2); k += 1) {
    below += choose / 2 ** n;
    choose = (choose * (n - k + 1)) / k;
    const coverage = 1 - 2 * below;
    if (coverage < confidence) break;
    best = { low: sorted[k - 1], high: sorted[n - k], coverage };
  }
  return best;
}
