import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms for the per-call path. prom-client's own validate the label names
 * and build a hash string on every update (measured: ~1 µs each, 5 per echo call, several
 * per cent of its throughput). Here a series is looked up once per label set and then updated
 * by reference; the registry formats them like its own through the metric interface
 * (`getForPromString()` for text, `get()` for JSON), so /metrics output is the same.
 */
type Labels = Record<string, string>;

export interface CounterSeries {
  value: number;
}

export interface HistogramSeries {
  observe(value: number): void;
}

interface MetricValue {
  value: number;
  labels: Labels;
  metricName?: string;
  sharedLabels?: Labels;
}

abstract class HotMetric<S> {
  readonly aggregator = 'sum';
  private readonly byKey = new Map<string, { labels: Labels; series: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of one label set; look it up once and keep it. */
  series(labels: Labels): S {
    const key = JSON.stringify(labels);
    let entry = this.byKey.get(key);
    if (!entry) this.byKey.set(key, (entry = { labels: { ...labels }, series: this.create() }));
    return entry.series;
  }

  protected abstract create(): S;
  protected abstract values(labels: Labels, series: S): MetricValue[];

  /** For the registry's text: buckets carry their series labels as `sharedLabels`, which prom-client formats once per series. */
  getForPromString(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const { labels, series } of this.byKey.values()) values.push(...this.values(labels, series));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /**
   * For getMetricsAsJSON (the --workers aggregation): every value carries all its labels, as
   * prom-client's Histogram.get() does. Aggregation tells series apart by `labels` alone and
   * drops `sharedLabels`, so unsplayed buckets of every series would be added into one.
   */
  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const metric = this.getForPromString();
    for (const [i, value] of metric.values.entries()) {
      if (value.sharedLabels)
        metric.values[i] = {
          value: value.value,
          labels: { ...value.labels, ...value.sharedLabels },
          ...(value.metricName ? { metricName: value.metricName } : {}),
        };
    }
    return metric;
  }

  abstract readonly type: string;

  reset(): void {
    this.byKey.clear();
  }
}

export class HotCounter extends HotMetric<CounterSeries> {
  readonly type = 'counter';
  protected create(): CounterSeries {
    return { value: 0 };
  }
  protected values(labels: Labels, series: CounterSeries): MetricValue[] {
    return [{ value: series.value, labels }];
  }
}

class Buckets implements HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i += 1;
    if (i < bounds.length) this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

export class HotHistogram extends HotMetric<HistogramSeries> {
  readonly type = 'histogram';
  constructor(
    name: string,
    help: string,
    registry: Registry,
    private readonly bounds: readonly number[],
  ) {
    super(name, help, registry);
  }
  protected create(): HistogramSeries {
    return new Buckets(this.bounds);
  }
  protected values(labels: Labels, series: HistogramSeries): MetricValue[] {
    const b = series as Buckets;
    const out: MetricValue[] = [];
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += b.counts[i] as number;
      out.push({ metricName: `${this.name}_bucket`, labels: { le: String(bound) }, sharedLabels: labels, value: cumulative });
    });
    out.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, sharedLabels: labels, value: b.count });
    out.push({ metricName: `${this.name}_sum`, labels, value: b.sum });
    out.push({ metricName: `${this.name}_count`, labels, value: b.count });
    return out;
  }
}
