import { describe, expect, it } from 'vitest';
import type { Trade } from '../market/trade.js';
import { actorConfig } from './config.js';
import { MarketActor } from './market-actor.js';
import { createActorOutput } from './output.js';

const ID = { exchange: 'binance', symbol: 'ETHUSDT', market: 'ETH-USDT' };
const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
let nextId = 1;
const trade = (t: number, price: string, size: string, side: 'buy' | 'sell'): Trade => ({
  ...ID,
  tradeId: String(nextId++),
  price,
  size,
  side,
  eventTime: T0 + t,
  receiveTime: T0 + t,
});

describe('indicators', () => {
  const config = actorConfig({
    intervals: ['1m'],
    partialUpdates: false,
    indicators: { smaPeriods: [3], emaPeriods: [2], volatilityPeriod: 3, vwapPeriod: 2 },
  });
  const closes = [10, 11, 12, 13, 12, 15];

  function run() {
    const actor = new MarketActor(ID, config);
    const out = createActorOutput();
    closes.forEach((p, i) => {
      actor.onTrade(trade(i * MIN + 1_000, String(p), '1', 'buy'), 0, out);
      // a second trade at the same price: volume 4 per minute, 1 bought and 3 sold
      actor.onTrade(trade(i * MIN + 2_000, String(p), '3', 'sell'), 0, out);
    });
    actor.flush(0, out);
    return out.indicators;
  }

  it('computes SMA, EMA (seeded with the SMA), rolling VWAP, volatility and imbalance per closed candle', () => {
    const ind = run();
    expect(ind).toHaveLength(closes.length);
    expect(ind.map((v) => v.openTime - T0)).toEqual(closes.map((_, i) => i * MIN));
    expect(ind.map((v) => v.sma['3'])).toEqual([null, null, 11, 12, 37 / 3, 40 / 3]);
    let ema = (10 + 11) / 2;
    const emas: (number | null)[] = [null, ema];
    for (const c of closes.slice(2)) {
      ema = (2 / 3) * c + (1 - 2 / 3) * ema;
      emas.push(ema);
    }
    expect(ind.map((v) => v.ema['2'])).toEqual(emas);
    expect(ind[1]?.vwap).toBe((10 * 4 + 11 * 4) / 8);
    expect(ind[5]?.vwap).toBeCloseTo((12 * 4 + 15 * 4) / 8, 12);
    expect(ind.every((v) => v.imbalance === -0.5)).toBe(true);
    const vol = (xs: number[]) => {
      const r = xs.slice(1).map((x, i) => Math.log(x / (xs[i] as number)));
      const m = r.reduce((a, b) => a + b, 0) / r.length;
      return Math.sqrt(r.reduce((a, b) => a + (b - m) ** 2, 0) / (r.length - 1)) * Math.sqrt(365 * 24 * 60);
    };
    expect(ind.slice(0, 3).map((v) => v.volatility)).toEqual([null, null, null]);
    expect(ind[3]?.volatility).toBeCloseTo(vol(closes.slice(0, 4)), 10);
    expect(ind[5]?.volatility).toBeCloseTo(vol(closes.slice(2, 6)), 10);
  });

  it('counts empty candles as zero returns and no volume', () => {
    const actor = new MarketActor(ID, config);
    const out = createActorOutput();
    actor.onTrade(trade(1_000, '10', '1', 'buy'), 0, out);
    actor.onTrade(trade(3 * MIN + 1_000, '20', '1', 'buy'), 0, out);
    actor.flush(0, out);
    expect(out.indicators.map((v) => [v.sma['3'], v.imbalance, v.vwap])).toEqual([
      [null, 1, 10],
      [null, null, 10],
      [10, null, null],
      [40 / 3, 1, 20],
    ]);
  });
});
