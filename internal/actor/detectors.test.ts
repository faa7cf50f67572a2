import { describe, expect, it } from 'vitest';
import type { Trade } from '../market/trade.js';
import { type ActorConfigInput, actorConfig } from './config.js';
import { MarketActor } from './market-actor.js';
import { createActorOutput } from './output.js';

const ID = { exchange: 'binance', symbol: 'BTCUSDT', market: 'BTC-USDT' };
const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

function setup(detectors: ActorConfigInput['detectors'] = {}) {
  const config = actorConfig({ intervals: ['1m'], partialUpdates: false, detectors });
  const actor = new MarketActor(ID, config);
  const out = createActorOutput();
  let id = 1;
  const feed = (t: number, price: string, size = '1', side: 'buy' | 'sell' = 'buy'): Trade => {
    const trade: Trade = { ...ID, tradeId: String(id++), price, size, side, eventTime: T0 + t, receiveTime: T0 + t };
    actor.onTrade(trade, 0, out);
    return trade;
  };
  return { actor, out, feed, config };
}

describe('price spike detector', () => {
  it('fires on a return far outside its EWMA baseline, with the evidence', () => {
    const { out, feed } = setup({ priceSpike: { minSamples: 10, alpha: 0.1 }, whaleTrade: { enabled: false } });
    for (let i = 0; i < 20; i++) feed(i * MIN + 1_000, i % 2 === 0 ? '100' : '100.1');
    expect(out.alerts).toEqual([]);
    feed(20 * MIN + 1_000, '103');
    feed(22 * MIN, '103');
    expect(out.alerts).toHaveLength(1);
    const a = out.alerts[0];
    expect(a).toMatchObject({
      id: `binance:BTCUSDT:price_spike:1m:${T0 + 20 * MIN}`,
      kind: 'price_spike',
      severity: 'critical',
      market: 'BTC-USDT',
      interval: '1m',
      time: T0 + 21 * MIN - 1,
    });
    expect(a?.evidence).toMatchObject({ previousClose: '100.1', close: '103', baselineSamples: 19 });
    expect(a?.evidence.zScore as number).toBeGreaterThan(6);
    expect(a?.evidence.logReturn).toBeCloseTo(Math.log(103 / 100.1), 12);
  });

  it('stays quiet during warm-up and over empty candles', () => {
    const { out, feed } = setup({ priceSpike: { minSamples: 10 }, whaleTrade: { enabled: false } });
    feed(1_000, '100');
    feed(MIN + 1_000, '100.1');
    feed(2 * MIN + 1_000, '150');
    feed(30 * MIN, '150');
    expect(out.alerts.filter((a) => a.kind === 'price_spike')).toEqual([]);
  });
});

describe('volume spike detector', () => {
  const cfg = {
    volumeSpike: { window: 5, minSamples: 3, ratio: 5, criticalRatio: 10 },
    whaleTrade: { enabled: false },
  };

  it('compares a candle volume with the mean of the previous ones', () => {
    const { out, feed } = setup(cfg);
    for (let i = 0; i < 5; i++) feed(i * MIN + 1_000, '100', '1');
    feed(5 * MIN + 1_000, '100', '6');
    feed(6 * MIN + 1_000, '100', '1');
    feed(8 * MIN, '100', '1');
    expect(out.alerts.map((a) => [a.kind, a.severity, a.evidence.ratio, a.evidence.volume])).toEqual([
      ['volume_spike', 'warning', 6, '6'],
    ]);
  });

  it('is critical at the critical ratio and silent during warm-up', () => {
    const { out, feed } = setup(cfg);
    feed(1_000, '100', '1');
    feed(MIN + 1_000, '100', '50');
    for (let i = 2; i < 5; i++) feed(i * MIN + 1_000, '100', '1');
    feed(5 * MIN + 1_000, '100', '200');
    feed(7 * MIN, '100', '1');
    expect(out.alerts.map((a) => [a.severity, a.evidence.baselineMeanVolume])).toEqual([
      ['critical', (1 + 50 + 3) / 5],
    ]);
  });
});

describe('whale trade detector', () => {
  it('fires at exactly the threshold notional, and is critical at the multiple', () => {
    const { out, feed } = setup();
    feed(1_000, '49999.99999', '2');
    expect(out.alerts).toEqual([]);
    const t = feed(2_000, '50000', '2', 'sell');
    feed(3_000, '100000', '10');
    expect(out.alerts.map((a) => [a.kind, a.severity, a.evidence.notional, a.time])).toEqual([
      ['whale_trade', 'warning', '100000', T0 + 2_000],
      ['whale_trade', 'critical', '1000000', T0 + 3_000],
    ]);
    expect(out.alerts[0]).toMatchObject({ id: `binance:BTCUSDT:whale_trade:${t.tradeId}` });
    expect(out.alerts[0]?.evidence).toMatchObject({ side: 'sell', price: '50000', size: '2', threshold: '100000' });
  });

  it('takes a per-market threshold, compared exactly even past 2^53', () => {
    const { out, feed } = setup({ whaleTrade: { perMarket: { 'BTC-USDT': '99999999.999999' } } });
    // 99999999999998 * 100000 at scale 11 is past 2^53
    feed(1_000, '999.99999999998', '100000');
    expect(out.alerts).toEqual([]);
    feed(2_000, '999.99999999999', '100000');
    expect(out.alerts.map((a) => a.evidence.notional)).toEqual(['99999999.999999']);
  });
});

describe('stale market detector', () => {
  const cfg = {
    staleMarket: { afterMs: MIN, criticalMultiple: 4, minTradesPerCandle: 0.5 },
    volumeSpike: { minSamples: 3 },
    whaleTrade: { enabled: false },
  };

  it('warns once after the silence, escalates once, and re-arms on the next trade', () => {
    const { out, feed, actor, config } = setup(cfg);
    for (let i = 0; i < 5; i++) {
      feed(i * MIN + 1_000, '100');
      feed(i * MIN + 30_000, '100');
    }
    const last = T0 + 4 * MIN + 30_000;
    const clock = (now: number) => actor.advance(now - config.outOfOrdernessMs, now, out);
    clock(last + MIN - 1);
    expect(out.alerts).toEqual([]);
    clock(last + MIN);
    clock(last + 2 * MIN);
    expect(out.alerts.map((a) => [a.kind, a.severity, a.time])).toEqual([['stale_market', 'warning', last + MIN]]);
    clock(last + 4 * MIN);
    clock(last + 10 * MIN);
    expect(out.alerts.map((a) => a.severity)).toEqual(['warning', 'critical']);
    expect(out.alerts[1]?.evidence).toMatchObject({ lastTradeTime: last, thresholdMs: 4 * MIN });
    feed(last - T0 + 10 * MIN + 1_000, '100');
    clock(last + 12 * MIN);
    expect(out.alerts.map((a) => a.severity)).toEqual(['warning', 'critical', 'warning']);
  });

  it('says nothing about a market that does not normally trade', () => {
    const { out, feed, actor } = setup(cfg);
    feed(1_000, '100');
    feed(5 * MIN, '100');
    actor.advance(T0 + 60 * MIN, T0 + 60 * MIN, out);
    expect(out.alerts.filter((a) => a.kind === 'stale_market')).toEqual([]);
  });
});
