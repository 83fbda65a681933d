// A scenario's target against what a run measured: `target` is a minimum req/s ratio (a number,
// or the number a text such as '0.85, p99 1.5' starts with; its `p99 X` is a maximum p99 ratio).
// The ratio is judged by where its median lies (bench/median-interval.js), not by the median
// alone: on a shared host a round's ratio swings by ±20%. With fewer than 5 rounds there is no
// interval, and the median alone decides (nothing is then "within noise"). The figures are the
// table's, rounded to two decimals: a median of 0.846 meets 0.85.
//   met          the median reaches the target (and the p99 ratio stays within its maximum);
//   within noise the median is below, but the target lies inside the interval;
//   missed       the whole interval is below the target, or the p99 ratio is above its maximum.

/** { ratio, p99 } from a target: the minimum req/s ratio and the maximum p99 ratio, either may be undefined. */
export function parseTarget(target) {
  if (typeof target === 'number') return { ratio: target, p99: undefined };
  if (typeof target !== 'string') return { ratio: undefined, p99: undefined };
  const ratio = /^\s*([0-9.]+)/.exec(target)?.[1];
  const p99 = /p99\s+([0-9.]+)/.exec(target)?.[1];
  return { ratio: ratio === undefined ? undefined : Number(ratio), p99: p99 === undefined ? undefined : Number(p99) };
}

/** 'met', 'within noise' or 'missed' for one comparison of a run ({ ratio, interval, p99Ratio, target }), or undefined without a target. */
export function verdict(compare) {
  const { ratio: minimum, p99: maximum } = parseTarget(compare.target);
  if (minimum === undefined && maximum === undefined) return undefined;
  if (maximum !== undefined && compare.p99Ratio > maximum) return 'missed';
  if (minimum === undefined || compare.ratio >= minimum) return 'met';
  const high = compare.interval?.high ?? compare.ratio;
  return high >= minimum ? 'within noise' : 'missed';
}
