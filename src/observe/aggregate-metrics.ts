import { Registry, type Metric } from 'prom-client';

/**
 * Sums the registries of all `--workers` into one registry to format, each metric combined
 * by its own `aggregator` as prom-client's AggregatorRegistry.aggregate does: counters and
 * histograms (buckets, _sum, _count) summed; of the process defaults, memory, CPU, handles
 * and GC summed (the whole server's), event-loop lag averaged (its max kept as max), the
 * Node version taken once and the start time left out.
 *
 * Default metrics are combined rather than labelled per worker: the output then has the same
 * series as a single process (dashboards and alerts need no change), and no series churn when
 * a replaced worker gets a new id. What that hides is one worker's own event-loop lag.
 *
 * Own code rather than AggregatorRegistry.aggregate: that one keys a series by its label
 * values joined unescaped (`name:value,`), so two series could merge whose free-text values
 * (a valve id may hold "," and ":") line up; here the key is the JSON of the sorted labels.
 */
export interface MetricJson {
  name: string;
  help: string;
  type: string;
  aggregator?: string;
  values: ValueJson[];
}

interface ValueJson {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

const REDUCERS: Readonly<Record<string, (values: readonly number[]) => number>> = {
  sum: (values) => values.reduce((total, v) => total + v, 0),
  first: (values) => values[0] as number,
  min: (values) => Math.min(...values),
  max: (values) => Math.max(...values),
  average: (values) => values.reduce((total, v) => total + v, 0) / values.length,
};

export function aggregateMetrics(perWorker: readonly (readonly MetricJson[])[]): Registry {
  const byName = new Map<string, MetricJson[]>();
  for (const metrics of perWorker) {
    for (const metric of metrics) {
      const same = byName.get(metric.name);
      if (same) same.push(metric);
      else byName.set(metric.name, [metric]);
    }
  }
  const registry = new Registry();
  for (const [name, metrics] of byName) {
    const first = metrics[0] as MetricJson;
    // prom-client documents a missing aggregator as a sum (and then throws on it).
    const aggregator = first.aggregator ?? 'sum';
    if (aggregator === 'omit') continue;
    const reduce = REDUCERS[aggregator];
    if (!reduce) throw new Error(`metric ${name}: unknown aggregator "${aggregator}"`);
    const series = new Map<string, { sample: ValueJson; values: number[] }>();
    for (const metric of metrics) {
      for (const value of metric.values) {
        const key = JSON.stringify([value.metricName ?? '', Object.entries(value.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
        const found = series.get(key);
        if (found) found.values.push(value.value);
        else series.set(key, { sample: value, values: [value.value] });
      }
    }
    const values = [...series.values()].map(({ sample, values }) => ({
      value: reduce(values),
      labels: sample.labels,
      ...(sample.metricName === undefined ? {} : { metricName: sample.metricName }),
    }));
    const combined = { name, help: first.help, type: first.type, aggregator, values };
    registry.registerMetric({ ...combined, get: () => combined } as unknown as Metric);
  }
  return registry;
}
