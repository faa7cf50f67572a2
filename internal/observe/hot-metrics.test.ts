import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotHistogram } from './hot-metrics.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The same operations on prom-client's own metric and on ours, each in a registry of its own. */
function pair() {
  const theirs = new Registry();
  const ours = new Registry();
  for (const r of [theirs, ours]) r.setDefaultLabels({ pod: 'w-1' });
  return { theirs, ours };
}

/** prom-client's JSON carries `exemplar: null` on histogram samples even with exemplars off; ours has none. */
function withoutExemplars(metrics: Awaited<ReturnType<Registry['getMetricsAsJSON']>>) {
  return metrics.map((m) => ({
    ...m,
    values: m.values.map((v) => {
      const { exemplar: _, ...rest } = v as typeof v & { exemplar?: unknown };
      return rest;
    }),
  }));
}

describe('hot metrics', () => {
  it('a counter reads exactly as prom-client’s in both export formats', async () => {
    const { theirs, ours } = pair();
    const p = new Counter({ name: 'x_total', help: 'Things.', labelNames: ['venue', 'market'], registers: [theirs] });
    const h = new HotCounter({ name: 'x_total', help: 'Things.', labelNames: ['venue', 'market'], registry: ours });
    const steps: Array<[string, string, number]> = [
      ['binance', 'BTC-USDT', 1],
      ['binance', 'ETH-USDT', 3],
      ['kraken', 'BTC-USD', 0.5],
      ['binance', 'BTC-USDT', 2],
      ['odd "venue"\\', 'A\nB', 1],
    ];
    for (const [v, m, n] of steps) {
      p.labels(v, m).inc(n);
      h.labels(v, m).inc(n);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  });

  it('a histogram reads exactly as prom-client’s, including the bounds and values above the last', async () => {
    const { theirs, ours } = pair();
    const p = new Histogram({
      name: 'lat_seconds',
      help: 'L.',
      labelNames: ['venue'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const h = new HotHistogram({
      name: 'lat_seconds',
      help: 'L.',
      labelNames: ['venue'],
      buckets: BUCKETS,
      registry: ours,
    });
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const values = [0, 0.005, 0.0050001, 30, 31, 1e6, ...BUCKETS, ...Array.from({ length: 2000 }, () => next() * 40)];
    values.forEach((v, i) => {
      const venue = i % 3 === 0 ? 'kraken' : 'binance';
      p.labels(venue).observe(v);
      h.labels(venue).observe(v);
    });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()));
    expect((await h.get()).values).toEqual(withoutExemplars([await p.get()])[0]?.values);
  });

  it('refuses what prom-client refuses', () => {
    const r = new Registry();
    const c = new HotCounter({ name: 'c_total', help: 'C.', labelNames: ['venue'], registry: r });
    const hist = new HotHistogram({ name: 'h', help: 'H.', labelNames: ['venue'], buckets: [1], registry: r });
    expect(() => c.labels('a').inc(-1)).toThrow(TypeError);
    expect(() => c.labels('a').inc(Number.NaN)).toThrow(TypeError);
    expect(() => c.labels('a').inc(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => hist.labels('a').observe(Number.NaN)).toThrow(TypeError);
    expect(() => c.labels('a', 'b')).toThrow(/1 label values expected/);
    expect(() => new HotCounter({ name: 'c_total', help: 'again', labelNames: [], registry: r })).toThrow(
      /already been registered/,
    );
  });

  it('resets with the registry', async () => {
    const r = new Registry();
    const c = new HotCounter({ name: 'c_total', help: 'C.', labelNames: ['venue'], registry: r });
    c.labels('a').inc(5);
    r.resetMetrics();
    expect((await c.get()).values).toEqual([]);
    c.labels('a').inc(2);
    expect((await c.get()).values).toEqual([{ labels: { venue: 'a' }, value: 2 }]);
  });
});
