import { describe, expect, it } from 'vitest';
import type { Trade } from '../market/trade.js';
import type { KlineRecord } from '../verify/kline-record.js';
import { parsePlantedDiscrepancy, SimKlineBuilder } from './sim-klines.js';
import { MarketSimulator, simMarket } from './simulator.js';

const T0 = Date.UTC(2026, 11, 7, 6, 0, 0);

function trade(eventTime: number, price: string, size: string, side: 'buy' | 'sell', id: number): Trade {
  return {
    exchange: 'sim',
    symbol: 'BTC-USD',
    market: 'BTC-USD',
    tradeId: String(id),
    price,
    size,
    side,
    eventTime,
    receiveTime: eventTime,
    simulated: true,
  };
}

/** Every kline the builder gives for `trades`, then everything closed by `until`; the trades it published. */
function run(builder: SimKlineBuilder, trades: readonly Trade[], until: number) {
  const klines: KlineRecord[] = [];
  const published: Trade[] = [];
  for (const t of trades) {
    klines.push(...builder.advance(t.eventTime, 1));
    if (builder.add(t)) published.push(t);
  }
  klines.push(...builder.advance(until, 1));
  return { klines, published };
}

function tape(n: number): Trade[] {
  const sim = new MarketSimulator({ markets: [simMarket('BTC-USD'), simMarket('ETH-USD')], seed: 7, startTime: T0 });
  return Array.from({ length: n }, () => sim.next());
}

describe("the simulator's own klines", () => {
  it('are built from its trades as Binance builds klines: exact sums, an empty minute flat at the previous close', () => {
    const trades = [
      trade(T0 + 1_000, '100.10', '0.500', 'buy', 1),
      trade(T0 + 2_000, '100.30', '0.250', 'sell', 2),
      trade(T0 + 59_999, '99.90', '1.000', 'buy', 3),
      // 06:01 has no trade; 06:02 does.
      trade(T0 + 120_000, '101.00', '0.001', 'sell', 4),
    ];
    const { klines } = run(new SimKlineBuilder(['1m', '5m']), trades, T0 + 300_000);
    expect(klines.map((k) => [k.interval, k.kline.openTime - T0, k.final])).toEqual([
      ['1m', 0, true],
      ['1m', 60_000, true],
      ['1m', 120_000, true],
      ['1m', 180_000, true],
      ['1m', 240_000, true],
      ['5m', 0, true],
    ]);
    expect(klines[0]?.kline).toEqual({
      openTime: T0,
      open: '100.10',
      high: '100.30',
      low: '99.90',
      close: '99.90',
      volume: '1.750',
      quoteVolume: '175.02500',
      trades: 3,
      takerBuyVolume: '1.500',
      takerBuyQuoteVolume: '149.95000',
    });
    expect(klines[1]?.kline).toMatchObject({ open: '99.90', high: '99.90', low: '99.90', close: '99.90' });
    expect(klines[1]?.kline).toMatchObject({ volume: '0.000', trades: 0, takerBuyVolume: '0.000' });
    expect(klines[5]?.kline).toMatchObject({
      open: '100.10',
      high: '101.00',
      low: '99.90',
      close: '101.00',
      trades: 4,
    });
    expect(klines[5]).toMatchObject({ exchange: 'sim', symbol: 'BTC-USD', market: 'BTC-USD' });
  });

  it('count every trade of a simulated tape once per interval, and a 5m kline sums its 1m klines', () => {
    const trades = tape(5_000);
    const end = (trades.at(-1) as Trade).eventTime;
    const { klines, published } = run(new SimKlineBuilder(['1m', '5m']), trades, end + 3_600_000);
    expect(published).toHaveLength(5_000);
    for (const interval of ['1m', '5m']) {
      expect(klines.filter((k) => k.interval === interval).reduce((a, k) => a + (k.kline.trades ?? 0), 0)).toBe(5_000);
    }
    const btc5 = klines.find((k) => k.interval === '5m' && k.market === 'BTC-USD' && (k.kline.trades ?? 0) > 0);
    const inside = klines.filter(
      (k) =>
        k.interval === '1m' &&
        k.market === 'BTC-USD' &&
        k.kline.openTime >= (btc5?.kline.openTime ?? 0) &&
        k.kline.openTime < (btc5?.kline.openTime ?? 0) + 300_000,
    );
    expect(inside.reduce((a, k) => a + (k.kline.trades ?? 0), 0)).toBe(btc5?.kline.trades);
  });

  it('plants one field off (the high of the first whole 1m window), nothing else', () => {
    const trades = tape(3_000);
    // Past the end of the second minute: the planted window is closed.
    const until = (trades.at(-1) as Trade).eventTime + 120_000;
    const clean = run(new SimKlineBuilder(['1m', '5m']), trades, until).klines;
    const planted = run(new SimKlineBuilder(['1m', '5m'], { market: 'ETH-USD', kind: 'field' }), trades, until);
    expect(planted.published).toHaveLength(3_000);
    const differ = planted.klines.filter((k, i) => JSON.stringify(k) !== JSON.stringify(clean[i]));
    expect(differ).toHaveLength(1);
    const [k] = differ as [KlineRecord];
    const before = clean.find(
      (c) => c.interval === '1m' && c.market === 'ETH-USD' && c.kline.openTime === k.kline.openTime,
    );
    expect([k.market, k.interval]).toEqual(['ETH-USD', '1m']);
    expect(k.kline.openTime).toBe(
      Math.floor(trades.find((t) => t.market === 'ETH-USD')!.eventTime / 60_000 + 1) * 60_000,
    );
    expect(Number(k.kline.high) - Number(before?.kline.high)).toBeCloseTo(0.01, 9);
    expect({ ...k.kline, high: before?.kline.high }).toEqual(before?.kline);
  });

  it('withholds one trade from the stream and still counts it in its klines', () => {
    const trades = tape(3_000);
    const until = (trades.at(-1) as Trade).eventTime;
    const clean = run(new SimKlineBuilder(['1m']), trades, until).klines;
    const planted = run(new SimKlineBuilder(['1m'], { market: 'BTC-USD', kind: 'withheld-trade' }), trades, until);
    expect(planted.klines).toEqual(clean);
    const missing = trades.filter((t) => !planted.published.includes(t));
    expect(missing).toHaveLength(1);
    const firstMinute = Math.floor(trades.find((t) => t.market === 'BTC-USD')!.eventTime / 60_000);
    expect(missing[0]?.market).toBe('BTC-USD');
    expect(Math.floor((missing[0] as Trade).eventTime / 60_000)).toBe(firstMinute + 1);
  });

  it('reads --plant-kline-discrepancy as MARKET or MARKET:KIND', () => {
    expect(parsePlantedDiscrepancy('btc-usdt')).toEqual({ market: 'BTC-USDT', kind: 'withheld-trade' });
    expect(parsePlantedDiscrepancy('ETH-USDT:field')).toEqual({ market: 'ETH-USDT', kind: 'field' });
    expect(parsePlantedDiscrepancy('ETH-USDT:other')).toBeUndefined();
    expect(parsePlantedDiscrepancy('')).toBeUndefined();
  });
});
