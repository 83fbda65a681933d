import { describe, expect, it } from '@jest/globals';
import { AggregatorRegistry, Registry } from 'prom-client';
import type { CallEvent } from '../../src/engine/execute.js';
import { aggregateMetrics, type MetricJson } from '../../src/observe/aggregate-metrics.js';
import { HotCounter } from '../../src/observe/hot-metrics.js';
import { createMetrics } from '../../src/observe/prometheus.js';
import { sample } from '../support/metrics-text.js';

/**
 * The sum behind GET /metrics under `serve --workers N`, on the real registries two workers
 * would hold: each registry's getMetricsAsJSON(), summed, formatted.
 */
const call = (operation: string, status: number, ms: number): CallEvent => ({
  requestId: 'r',
  door: 'put',
  tenant: 'demo',
  operation,
  status,
  code: status === 200 ? undefined : 'ACCESS_DENIED',
  ms,
  subject: undefined,
  authenticated: undefined,
});

const json = async (registry: Registry) => (await registry.getMetricsAsJSON()) as unknown as MetricJson[];

describe('aggregateMetrics', () => {
  it('sums counters and histograms series by series (buckets, _sum, _count) over two workers', async () => {
    const a = createMetrics();
    const b = createMetrics();
    for (const ms of [0.3, 3, 30]) a.callEnd(call('login', 200, ms));
    a.callEnd(call('echo', 200, 7));
    for (const ms of [0.3, 300]) b.callEnd(call('login', 200, ms));
    b.callEnd(call('login', 403, 2));
    a.inc('lockouts', { tenant: 'demo' });
    b.inc('lockouts', { tenant: 'demo' }, 2);
    a.reloaded('success', 'v1');
    b.reloaded('success', 'v1');

    const text = await aggregateMetrics([await json(a.registry), await json(b.registry)]).metrics();
    expect(sample(text, 'authpipe_calls_total{tenant="demo",operation="login",outcome="success",code="",door="put"}')).toBe(5);
    expect(sample(text, 'authpipe_calls_total{tenant="demo",operation="echo",outcome="success",code="",door="put"}')).toBe(1);
    expect(sample(text, 'authpipe_calls_total{tenant="demo",operation="login",outcome="refused",code="ACCESS_DENIED",door="put"}')).toBe(1);
    // Each series keeps its own buckets: login's are not added to echo's or to the refused ones.
    const login = (le: string) => sample(text, `authpipe_pipe_duration_seconds_bucket{le="${le}",pipe="login",outcome="success"}`);
    expect([login('0.0005'), login('0.005'), login('0.05'), login('0.5'), login('+Inf')]).toEqual([2, 3, 4, 5, 5]);
    expect(sample(text, 'authpipe_pipe_duration_seconds_count{pipe="login",outcome="success"}')).toBe(5);
    expect(sample(text, 'authpipe_pipe_duration_seconds_sum{pipe="login",outcome="success"}')).toBeCloseTo(0.3336, 6);
    expect(sample(text, 'authpipe_pipe_duration_seconds_bucket{le="0.01",pipe="echo",outcome="success"}')).toBe(1);
    expect(sample(text, 'authpipe_pipe_duration_seconds_bucket{le="0.005",pipe="echo",outcome="success"}')).toBe(0);
    expect(sample(text, 'authpipe_pipe_duration_seconds_count{pipe="login",outcome="refused"}')).toBe(1);
    expect(sample(text, 'authpipe_lockouts_total{tenant="demo"}')).toBe(3);
    expect(sample(text, 'authpipe_config_reloads_total{result="success"}')).toBe(2);
    // The active version is one fact, not one per worker.
    expect(sample(text, 'authpipe_config_info{version="v1"}')).toBe(1);
    // Process defaults by prom-client's aggregators: memory summed, the start time left out.
    const rss = (t: string) => sample(t, 'authpipe_process_resident_memory_bytes') as number;
    expect(rss(text)).toBeGreaterThan(rss(await a.registry.metrics()));
    expect(text).not.toContain('authpipe_process_start_time_seconds');
    expect(text.match(/^authpipe_nodejs_version_info\{/gm)).toHaveLength(1);
  });

  it('gives back one registry unchanged, text for text', async () => {
    const one = createMetrics({ defaultMetrics: false });
    one.callEnd(call('login', 200, 4));
    one.callEnd(call('login', 403, 40));
    one.inc('otp_issued', { tenant: 'demo', channel: 'sms' });
    one.reloaded('success', 'v1');
    expect(await aggregateMetrics([await json(one.registry)]).metrics()).toBe(await one.registry.metrics());
  });

  it('never merges two series whose label values line up once joined', async () => {
    // prom-client keys series by "name:value," unescaped: these two become "a:1,b:2,b:3,".
    const twoWorkers = [new Registry(), new Registry()].map((r, i) => {
      const c = new HotCounter('t_total', 'help', r);
      c.series(i === 0 ? { a: '1,b:2', b: '3' } : { a: '1', b: '2,b:3' }).value += 1;
      return r;
    });
    const jsons = await Promise.all(twoWorkers.map(json));
    const ours = await aggregateMetrics(jsons).metrics();
    expect(sample(ours, 't_total{a="1,b:2",b="3"}')).toBe(1);
    expect(sample(ours, 't_total{a="1",b="2,b:3"}')).toBe(1);
    const theirs = await AggregatorRegistry.aggregate(jsons as never).metrics();
    expect(theirs.trim().split('\n')).toHaveLength(3); // HELP, TYPE and one merged series
  });

  it('refuses a metric with an aggregator it does not know', () => {
    expect(() => aggregateMetrics([[{ name: 'x', help: 'h', type: 'gauge', aggregator: 'median', values: [] }]])).toThrow(
      /unknown aggregator "median"/,
    );
  });
});
