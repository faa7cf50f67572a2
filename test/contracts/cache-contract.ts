import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Candle } from '../../internal/market/candle.js';
import { type Cache, candleIsNewer, type LatestPrice, priceIsNewer } from '../../internal/sink/cache.js';
import { reference } from './context-store-contract.js';
import { candle, indicators } from './store-contract.js';

/**
 * The one test suite every Cache adapter passes (memory in the unit project, Redis in the
 * integration project). `fresh` gives a market symbol no other test uses.
 */
export interface CacheSubject {
  readonly cache: Cache;
  fresh(prefix: string): string;
  close(): Promise<void>;
}

function price(over: Partial<LatestPrice> = {}): LatestPrice {
  return {
    exchange: 'binance',
    symbol: 'BTCUSDT',
    market: 'BTC-USDT',
    price: '42000.1',
    time: 1_000,
    tradeId: '10',
    ...over,
  };
}

/** The reference outcome of writing `items` in order, one entry per symbol: which are written, and what stays. */
function bySymbol<T extends { symbol: string }>(
  items: readonly T[],
  isNewer: (next: T, current: T) => boolean,
): { flags: boolean[]; latest: Map<string, T> } {
  const latest = new Map<string, T>();
  const flags = items.map((x) => {
    const prev = latest.get(x.symbol);
    const newer = !prev || isNewer(x, prev);
    if (newer) latest.set(x.symbol, x);
    return newer;
  });
  return { flags, latest };
}

export function defineCacheContract(name: string, make: () => Promise<CacheSubject>): void {
  describe(`Cache contract: ${name}`, () => {
    let s: CacheSubject;
    beforeAll(async () => {
      s = await make();
    });
    afterAll(async () => {
      await s?.close();
    });

    it('reads back nothing, then the candle stored, exactly', async () => {
      const symbol = s.fresh('C');
      expect(await s.cache.latestCandle('binance', symbol, '1m')).toBeNull();
      const c = candle({ symbol, closed: false, firstTradeId: '', lastTradeId: '' });
      expect(await s.cache.putCandles([c])).toEqual([true]);
      expect(await s.cache.latestCandle('binance', symbol, '1m')).toEqual(c);
      expect(await s.cache.latestCandle('binance', symbol, '5m')).toBeNull();
      expect(await s.cache.latestCandle('kraken', symbol, '1m')).toBeNull();
    });

    it('keeps the latest indicators per market and interval, newer by their candle open time only', async () => {
      const symbol = s.fresh('I');
      expect(await s.cache.latestIndicators('binance', symbol, '1m')).toBeNull();
      const v1 = indicators(candle({ symbol }), { vwap: 0.1 + 0.2 });
      const v2 = indicators(candle({ symbol, openTime: v1.openTime + 60_000 }), { volatility: 1 / 3 });
      const v5m = indicators(candle({ symbol, interval: '5m' }));
      expect(await s.cache.putIndicators([v1, v2, v1, v2, v5m])).toEqual([true, true, false, false, true]);
      expect(await s.cache.latestIndicators('binance', symbol, '1m')).toEqual(v2);
      expect(await s.cache.latestIndicators('binance', symbol, '5m')).toEqual(v5m);
      // Its candle's key is untouched.
      expect(await s.cache.latestCandle('binance', symbol, '1m')).toBeNull();
    });

    it('a candle is written only when newer: later window, higher revision, its close, more trades', async () => {
      const symbol = s.fresh('N');
      const base = candle({ symbol, openTime: 60_000_000, revision: 0, closed: false, trades: 5 });
      const put = async (c: Candle) => (await s.cache.putCandles([c]))[0];
      expect(await put(base)).toBe(true);
      expect(await put(base)).toBe(false); // equal: a replay
      expect(await put({ ...base, trades: 4, close: 'stale' })).toBe(false);
      expect(await put({ ...base, trades: 6, close: '6' })).toBe(true);
      expect(await put({ ...base, trades: 6, closed: true, close: 'closed' })).toBe(true);
      expect(await put({ ...base, trades: 99, closed: false })).toBe(false); // a partial after the close
      expect(await put({ ...base, revision: 1, trades: 7, closed: true, close: 'rev1' })).toBe(true);
      expect(await put({ ...base, openTime: 0, revision: 9, trades: 100 })).toBe(false); // an older window
      expect((await s.cache.latestCandle('binance', symbol, '1m'))?.close).toBe('rev1');
      expect(await put({ ...base, openTime: 60_060_000, trades: 1, close: 'next' })).toBe(true);
      expect((await s.cache.latestCandle('binance', symbol, '1m'))?.close).toBe('next');
    });

    it('a batch is applied in order, each entry against what the previous ones left', async () => {
      const symbol = s.fresh('B');
      const a = candle({ symbol, trades: 1, closed: false });
      const b = candle({ symbol, trades: 3, closed: false });
      const c = candle({ symbol, trades: 2, closed: false });
      const d = candle({ symbol, interval: '5m', trades: 1 });
      expect(await s.cache.putCandles([a, b, c, d])).toEqual([true, true, false, true]);
      expect((await s.cache.latestCandle('binance', symbol, '1m'))?.trades).toBe(3);
      expect(await s.cache.putCandles([])).toEqual([]);
    });

    it('keeps the latest reference snapshot per asset, newer by time alone', async () => {
      const { cache } = s;
      const btc = s.fresh('BTC');
      const eth = s.fresh('ETH');
      const r = reference({ asset: btc, time: 2_000 });
      expect(await cache.putReferences([r, reference({ asset: btc, time: 1_000 }), reference({ asset: eth })])).toEqual(
        [true, false, true],
      );
      expect(await cache.putReferences([r])).toEqual([false]);
      const mine = (await cache.latestReferences()).filter((x) => x.asset === btc || x.asset === eth);
      expect(mine.map((x) => [x.asset, x.time])).toEqual(
        [
          [btc, 2_000],
          [eth, reference().time],
        ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
      expect(mine.find((x) => x.asset === btc)).toEqual(r);
    });

    it('the latest price is written only when newer by (time, trade id), trade ids compared as integers', async () => {
      const symbol = s.fresh('P');
      const put = async (p: LatestPrice) => (await s.cache.putPrices([p]))[0];
      expect(await s.cache.latestPrice('binance', symbol)).toBeNull();
      const p = price({ symbol, tradeId: '9', time: 1_000 });
      expect(await put(p)).toBe(true);
      expect(await s.cache.latestPrice('binance', symbol)).toEqual(p);
      expect(await put(p)).toBe(false);
      expect(await put({ ...p, tradeId: '10', price: '2' })).toBe(true); // 10 > 9, not as strings
      expect(await put({ ...p, tradeId: '8', price: 'stale' })).toBe(false);
      expect(await put({ ...p, time: 999, tradeId: '1000', price: 'older' })).toBe(false);
      expect(await put({ ...p, time: 1_001, tradeId: '1', price: '3' })).toBe(true);
      expect((await s.cache.latestPrice('binance', symbol))?.price).toBe('3');
      // Non-numeric ids (some venues use UUIDs) compare as strings.
      const u = s.fresh('U');
      expect(await put(price({ symbol: u, tradeId: 'b-uuid' }))).toBe(true);
      expect(await put(price({ symbol: u, tradeId: 'a-uuid' }))).toBe(false);
    });

    it('a batch of thousands over many keys is applied in order, candles and prices', async () => {
      const symbols = Array.from({ length: 7 }, () => s.fresh('M'));
      let seed = 17;
      const rand = (n: number): number => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed % n;
      };
      const candles = Array.from({ length: 2_500 }, (_, i) =>
        candle({ symbol: symbols[rand(7)] as string, trades: rand(400), closed: false, close: String(i) }),
      );
      const expected = bySymbol(candles, candleIsNewer);
      expect(await s.cache.putCandles(candles)).toEqual(expected.flags);
      for (const [symbol, c] of expected.latest) {
        expect(await s.cache.latestCandle('binance', symbol, '1m')).toEqual(c);
      }

      const prices = Array.from({ length: 2_500 }, () =>
        price({ symbol: symbols[rand(7)] as string, time: rand(50), tradeId: String(rand(1_000)) }),
      );
      const expectedPrices = bySymbol(prices, priceIsNewer);
      expect(await s.cache.putPrices(prices)).toEqual(expectedPrices.flags);
      for (const [symbol, p] of expectedPrices.latest) expect(await s.cache.latestPrice('binance', symbol)).toEqual(p);
    });

    it('agrees with the reference ordering on random sequences of writes', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              openTime: fc.integer({ min: 0, max: 3 }).map((i) => i * 60_000),
              revision: fc.integer({ min: 0, max: 2 }),
              closed: fc.boolean(),
              trades: fc.integer({ min: 0, max: 4 }),
            }),
            { minLength: 1, maxLength: 12 },
          ),
          async (writes) => {
            const symbol = s.fresh('F');
            const candles = writes.map((w, i) => candle({ symbol, ...w, close: String(i) }));
            const expected = bySymbol(candles, candleIsNewer);
            expect(await s.cache.putCandles(candles)).toEqual(expected.flags);
            expect(await s.cache.latestCandle('binance', symbol, '1m')).toEqual(expected.latest.get(symbol));
          },
        ),
        { numRuns: 25 },
      );
      expect(priceIsNewer(price({ tradeId: '10' }), price({ tradeId: '9' }))).toBe(true);
    });
  });
}
