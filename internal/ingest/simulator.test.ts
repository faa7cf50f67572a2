import { describe, expect, it } from 'vitest';
import { canonicalMarket } from '../market/markets.js';
import type { Trade } from '../market/trade.js';
import { MarketSimulator, simMarket, simulateTrades } from './simulator.js';
import { checkTrade } from './validate.js';

function tape(n: number, seed = 7, markets = ['BTC-USD']): Trade[] {
  const sim = new MarketSimulator({ markets: markets.map(simMarket), seed, startTime: 1_700_000_000_000 });
  return Array.from({ length: n }, () => sim.next());
}

function autocorrelation(xs: number[], lag: number): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    const d = (xs[i] as number) - mean;
    den += d * d;
    if (i >= lag) num += d * ((xs[i - lag] as number) - mean);
  }
  return num / den;
}

describe('market simulator', () => {
  const trades = tape(40_000);

  it('labels every trade simulated and makes valid, consecutive, time-ordered trades', () => {
    for (const t of trades) {
      expect(t.simulated).toBe(true);
      expect(t.exchange).toBe('sim');
      expect(checkTrade(t)).toBeUndefined();
    }
    expect(trades.map((t) => Number(t.tradeId))).toEqual(trades.map((_, i) => i + 1));
    for (let i = 1; i < trades.length; i++) {
      expect((trades[i] as Trade).eventTime).toBeGreaterThanOrEqual((trades[i - 1] as Trade).eventTime);
    }
    expect(canonicalMarket('sim', trades[0]?.symbol ?? '')).toBe('BTC-USD');
    expect(trades.every((t) => /^\d+\.\d{2}$/.test(t.price) && /^\d+\.\d{5}$/.test(t.size))).toBe(true);
  });

  it('is deterministic for a seed', () => {
    expect(tape(100, 3)).toEqual(tape(100, 3));
    expect(tape(100, 3)).not.toEqual(tape(100, 4));
  });

  it('arrives in bursts: counts per second vary far more than a Poisson stream', () => {
    const counts = new Map<number, number>();
    for (const t of trades)
      counts.set(Math.floor(t.eventTime / 1000), (counts.get(Math.floor(t.eventTime / 1000)) ?? 0) + 1);
    const first = Math.floor((trades[0] as Trade).eventTime / 1000);
    const last = Math.floor((trades.at(-1) as Trade).eventTime / 1000);
    const xs: number[] = [];
    for (let s = first; s <= last; s++) xs.push(counts.get(s) ?? 0);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(mean).toBeGreaterThan(12);
    expect(mean).toBeLessThan(30);
    expect(variance / mean).toBeGreaterThan(2); // Poisson: 1
  });

  it('has heavy-tailed sizes', () => {
    const lots = trades.map((t) => Math.round(Number(t.size) / 0.00001)).sort((a, b) => b - a);
    const top = lots.slice(0, 400); // top 1%
    const threshold = lots[400] as number;
    const hill = top.length / top.reduce((a, x) => a + Math.log(x / threshold), 0);
    expect(hill).toBeGreaterThan(1.1);
    expect(hill).toBeLessThan(2.0);
    expect((lots[0] as number) / (lots[lots.length >> 1] as number)).toBeGreaterThan(100);
  });

  it('clusters volatility: absolute returns are autocorrelated, returns are not', () => {
    const r = trades.slice(1).map((t, i) => Math.log(Number(t.price) / Number((trades[i] as Trade).price)));
    expect(Math.abs(autocorrelation(r, 1))).toBeLessThan(0.05);
    expect(autocorrelation(r.map(Math.abs), 1)).toBeGreaterThan(0.1);
    expect(autocorrelation(r.map(Math.abs), 10)).toBeGreaterThan(0.05);
  });

  it('merges many markets in event-time order', () => {
    const many = tape(5_000, 1, ['BTC-USD', 'ETH-USD', 'SOL-USD', 'DOGE-USD']);
    expect(new Set(many.map((t) => t.market))).toEqual(new Set(['BTC-USD', 'ETH-USD', 'SOL-USD', 'DOGE-USD']));
    for (let i = 1; i < many.length; i++) {
      expect((many[i] as Trade).eventTime).toBeGreaterThanOrEqual((many[i - 1] as Trade).eventTime);
    }
  });

  it('streams in real time when asked', async () => {
    const controller = new AbortController();
    const start = Date.now();
    const got: Trade[] = [];
    for await (const t of simulateTrades(
      { markets: [simMarket('BTC-USD')], ratePerSecond: 50, realtime: true },
      controller.signal,
    )) {
      got.push(t);
      if (got.length === 20) controller.abort();
    }
    const lastEvent = (got.at(-1) as Trade).eventTime;
    expect(Date.now()).toBeGreaterThanOrEqual(lastEvent - 5);
    expect(Date.now() - start).toBeGreaterThan(50);
  });
});
