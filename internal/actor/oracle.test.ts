import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../test/harness/shared-data.js';
import { loadRealTrades } from '../../test/support/real-trades.js';
import type { Candle } from '../market/candle.js';
import { actorConfig } from './config.js';
import { compareDecimal } from './decimal.js';
import { MarketActor } from './market-actor.js';
import { createActorOutput } from './output.js';
import { rollUp } from './rollup.js';

const DATA = sharedDataDir();
const DIR = resolve(DATA, 'binance-um-btcusdt-2020-02-22');

const trades = loadRealTrades;

function klines(): string[][] {
  return readFileSync(resolve(DIR, 'klines-1m.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
}

/** The candle as the kline row's fields, each compared as an exact decimal. */
function row(c: Candle): (string | number)[] {
  return [
    c.openTime,
    c.open,
    c.high,
    c.low,
    c.close,
    c.volume,
    c.closeTime,
    c.quoteVolume,
    c.trades,
    c.takerBuyVolume,
    c.takerBuyQuoteVolume,
  ];
}

function same(a: string | number, b: string): boolean {
  return typeof a === 'number' ? a === Number(b) : compareDecimal(a, b) === 0;
}

describe('oracle: Binance USD-M BTCUSDT 2020-02-22, trades vs the exchange klines', () => {
  it('builds every full minute exactly as the exchange published it', async () => {
    const config = actorConfig({ intervals: ['1m', '5m', '15m', '1h'], partialUpdates: false });
    const actor = new MarketActor({ exchange: 'binance-futures', symbol: 'BTCUSDT', market: 'BTC-USDT' }, config);
    const out = createActorOutput();
    for (const t of await trades()) expect(actor.onTrade(t, 0, out)).toBe('accepted');
    actor.flush(0, out);
    const ones = out.closed.filter((c) => c.interval === '1m');
    const byOpen = new Map(ones.map((c) => [c.openTime, c]));
    const rows = klines();
    expect(rows).toHaveLength(126);
    let full = 0;
    for (const k of rows) {
      const openTime = Number(k[0]);
      const c = byOpen.get(openTime);
      expect(c, `minute ${openTime}`).toBeDefined();
      const partial = openTime === 1582329600000 || openTime === 1582337100000;
      const fields = row(c as Candle);
      const equal = fields.every((v, i) => same(v, k[i] as string));
      if (partial) {
        expect(equal).toBe(false);
        continue;
      }
      for (let i = 0; i < fields.length; i++) {
        expect(same(fields[i] as string | number, k[i] as string), `minute ${openTime} field ${i}`).toBe(true);
      }
      full++;
    }
    expect(full).toBe(124);
    // The first minute lacks its first trade (SOURCE.md): 90 trades against the kline's 91.
    expect(byOpen.get(1582329600000)?.trades).toBe(90);
    expect(actor.counters).toMatchObject({ accepted: 9999, duplicates: 0, late: 0, rejected: 0, emptyCandles: 0 });
  });

  it('larger intervals equal the roll-up of its 1m candles', async () => {
    const config = actorConfig({ intervals: ['1m', '5m', '15m', '1h'], partialUpdates: false });
    const actor = new MarketActor({ exchange: 'binance-futures', symbol: 'BTCUSDT', market: 'BTC-USDT' }, config);
    const out = createActorOutput();
    for (const t of await trades()) actor.onTrade(t, 0, out);
    actor.flush(0, out);
    const ones = out.closed.filter((c) => c.interval === '1m');
    for (const interval of ['5m', '15m', '1h'] as const) {
      const built = out.closed.filter((c) => c.interval === interval);
      const rolled = new Map(rollUp(ones, interval).map((c) => [c.openTime, c]));
      // Every window the 1m candles fully cover; the first hour starts at the file's first minute.
      expect(rolled.size).toBeGreaterThan(0);
      for (const c of built) {
        const r = rolled.get(c.openTime);
        if (r) expect(c).toEqual(r);
      }
      expect(built.filter((c) => rolled.has(c.openTime))).toHaveLength(rolled.size);
    }
  });
});
