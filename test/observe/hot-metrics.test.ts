import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { HotCounter, HotHistogram } from '../../src/observe/hot-metrics.js';

describe('hot-path metrics', () => {
  it('formats histograms as prom-client does, with le inclusive and +Inf, sum and count', async () => {
    const registry = new Registry();
    const h = new HotHistogram('t_seconds', 'help text', registry, [0.001, 0.01]);
    const s = h.series({ pipe: 'p' });
    for (const v of [0.0005, 0.001, 0.005, 20]) s.observe(v);
    expect(h.series({ pipe: 'p' })).toBe(s); // one series per label set
    const text = await registry.metrics();
    expect(text).toBe(
      [
        '# HELP t_seconds help text',
        '# TYPE t_seconds histogram',
        't_seconds_bucket{le="0.001",pipe="p"} 2',
        't_seconds_bucket{le="0.01",pipe="p"} 3',
        't_seconds_bucket{le="+Inf",pipe="p"} 4',
        't_seconds_sum{pipe="p"} 20.0065',
        't_seconds_count{pipe="p"} 4',
        '',
      ].join('\n'),
    );
  });

  it('formats counters and escapes label values', async () => {
    const registry = new Registry();
    const c = new HotCounter('t_total', 'help', registry);
    c.series({ tenant: 'a"b\\c' }).value += 3;
    c.series({ tenant: 'x' }).value += 1;
    expect(await registry.metrics()).toBe(
      '# HELP t_total help\n# TYPE t_total counter\nt_total{tenant="a\\"b\\\\c"} 3\nt_total{tenant="x"} 1\n',
    );
  });
});
