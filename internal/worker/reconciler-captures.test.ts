import { describe, expect, it } from 'vitest';
import {
  closingTrade,
  klineRecords,
  reconcilingDatabase,
  runReconciling,
  TRADES,
  verificationOf,
} from '../../test/support/reconciler-run.js';
import {
  binanceCoveredWindows,
  type CapturedEvent,
  type CoveredWindow,
  klinesOf,
  readCapture,
  tradesOf,
} from '../../test/support/venue-capture.js';
import { createBinanceAdapter } from '../ingest/venues/binance.js';
import { createBybitAdapter } from '../ingest/venues/bybit.js';
import { tradeRecord } from '../log/record.js';
import type { Interval } from '../market/interval.js';
import type { Trade } from '../market/trade.js';
import { KLINES_TOPIC, type KlineRecord } from '../verify/kline-record.js';

/**
 * The reconciler host beside the market actors, on the recorded captures of the other venues
 * (../shared/data/venue-ws-captures, SOURCE.md): every window a capture covers completely is
 * `verified`, a trade taken out makes it `mismatch` with both values, and where a capture covers
 * no window completely (Bybit, Coinbase) nothing is `verified` that the replay cannot have seen
 * whole, while the venue's last push of a window equals tickmesh's candle of the trades it had.
 */
const MIN = 60_000;

const db = reconcilingDatabase('captures');

interface Replay {
  readonly exchange: string;
  readonly trades: readonly Trade[];
  readonly klines: readonly KlineRecord[];
  /** Closes every window of the replay: a trade per market at this time. */
  readonly closeAt: number;
  readonly intervals?: readonly Interval[];
  readonly clock?: () => number;
}

/**
 * A feed's order: by event time, and by trade id within a millisecond where ids are numbers
 * (Coinbase's snapshot comes newest first); Bybit linear's ids (UUIDs) keep the order received.
 */
function byTime(a: Trade, b: Trade): number {
  if (a.eventTime !== b.eventTime) return a.eventTime - b.eventTime;
  return /^\d+$/.test(a.tradeId) && /^\d+$/.test(b.tradeId) ? Number(BigInt(a.tradeId) - BigInt(b.tradeId)) : 0;
}

/** Replays klines, then trades (each market's in a feed's order, closed by one trade at `closeAt`). */
async function replay(
  r: Replay,
  check: (status: (symbol: string, openTime: number) => Promise<unknown>) => Promise<void>,
) {
  const { log, store } = await db.setup();
  const producer = log.producer();
  await producer.send(KLINES_TOPIC, klineRecords(r.klines));
  const bySymbol = new Map<string, Trade[]>();
  for (const t of r.trades) bySymbol.set(t.symbol, [...(bySymbol.get(t.symbol) ?? []), t]);
  for (const trades of bySymbol.values()) {
    const sorted = [...trades].sort(byTime);
    const last = sorted.at(-1) as Trade;
    await producer.send(
      TRADES,
      [...sorted, closingTrade(last, r.closeAt)].map((t) => tradeRecord(t)),
    );
  }
  const running = await runReconciling(log, store, { intervals: r.intervals, clock: r.clock });
  const interval = r.intervals?.[0] ?? '1m';
  try {
    await check(async (symbol, openTime) => await verificationOf(store, r.exchange, symbol, openTime, interval));
  } finally {
    await running.stop();
  }
}

type Verification = Awaited<ReturnType<typeof verificationOf>>;
const poll = (get: () => Promise<unknown>, status: string) =>
  expect.poll(async () => ((await get()) as Verification)?.status, { timeout: 30_000 }).toBe(status);

describe('Binance spot and Binance.US captures', () => {
  const read = (file: string, symbols: string[]) =>
    binanceCoveredWindows(
      readCapture(file, 'binance', createBinanceAdapter({ market: 'spot', stream: 'aggTrade', symbols, restUrl: '' })),
    );
  // Binance.US speaks Binance spot's protocol; its trades and klines are read as `binance`'s.
  const us = read('binance_us_aggTrade_kline.jsonl', ['CRVUSDT', 'COMPUSDT', 'OMGBUSD', 'ZRXUSDT']);
  const spot = read('binance_spot_aggTrade_kline.jsonl', ['NKNUSDT', 'BLZETH', 'LRCBTC', 'RUNEEUR']);
  const windows = [...us, ...spot];
  const closeAt = (w: CoveredWindow) => w.openTime + 2 * MIN + 30_000;

  it('finds the windows the captures cover: Binance.US OMGBUSD 00:25 (2 trades), spot LRCBTC 00:28 (1)', () => {
    expect(us.map((w) => [w.symbol, w.openTime, w.trades.length, w.final.kline.trades])).toEqual([
      ['OMGBUSD', Date.UTC(2021, 9, 12, 0, 25), 2, 2],
    ]);
    expect(spot.map((w) => [w.symbol, w.openTime, w.trades.length, w.final.kline.trades])).toEqual([
      ['LRCBTC', Date.UTC(2021, 9, 12, 0, 28), 1, 1],
    ]);
  });

  it('verifies every covered window, counts and taker-buy volume included', async () => {
    for (const w of windows) {
      await replay(
        { exchange: 'binance', trades: w.trades, klines: [w.final], closeAt: closeAt(w) },
        async (status) => {
          await poll(() => status(w.symbol, w.openTime), 'verified');
          // The minute after has no kline: unverifiable, never verified.
          await poll(() => status(w.symbol, w.openTime + MIN), 'unverifiable');
        },
      );
    }
  }, 120_000);

  it('names the fields of a removed trade with both values', async () => {
    const w = us[0] as CoveredWindow;
    const [, kept] = w.trades as [Trade, Trade];
    await replay({ exchange: 'binance', trades: [kept], klines: [w.final], closeAt: closeAt(w) }, async (status) => {
      await poll(() => status(w.symbol, w.openTime), 'mismatch');
      const v = (await status(w.symbol, w.openTime)) as Verification;
      expect(v?.differences).toContainEqual({ field: 'trades', ours: '1', theirs: '2' });
      expect(v?.differences).toContainEqual({
        field: 'volume',
        ours: String(Number(kept.size)),
        theirs: w.final.kline.volume,
      });
      // The removed trade was a taker sell: the taker-buy sums still agree.
      expect(v?.differences?.map((d) => d.field)).toEqual(['volume', 'quoteVolume', 'trades']);
    });
  }, 120_000);
});

describe('Bybit v5 capture, linear and spot: no complete minute', () => {
  const MINUTE_26 = Date.UTC(2026, 7, 9, 21, 26);
  const MINUTE_27 = MINUTE_26 + MIN;
  const sides = [
    { exchange: 'bybit-linear', category: 'linear', symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT'] },
    { exchange: 'bybit', category: 'spot', symbols: ['BTCUSDT', 'ETHUSDT'] },
  ] as const;
  const read = (side: (typeof sides)[number]) =>
    readCapture(
      'bybit_v5_publicTrade_kline.jsonl',
      side.exchange,
      createBybitAdapter({ category: side.category, symbols: [...side.symbols], restUrl: '' }),
      (url) => url.endsWith(`/${side.category}`),
    );

  it('replayed as recorded, judges no minute verified: 21:26 began before the capture, 21:27 never closed in it', async () => {
    for (const side of sides) {
      const events = read(side);
      await replay(
        {
          exchange: side.exchange,
          trades: tradesOf(events),
          klines: klinesOf(events),
          closeAt: MINUTE_27 + 2 * MIN + 30_000,
        },
        async (status) => {
          for (const symbol of side.symbols) {
            await poll(() => status(symbol, MINUTE_27), 'unverifiable');
            const at26 = (await status(symbol, MINUTE_26)) as Verification;
            if (side.exchange === 'bybit-linear' && symbol === 'BTCUSDT') {
              // The capture holds the minute's last 3 s only: Bybit's final kline says what is missing.
              expect(at26?.status).toBe('mismatch');
              expect(at26?.differences).toContainEqual({ field: 'volume', ours: '0.004', theirs: '3.712' });
            } else {
              // No trade of 21:26 in the capture: no candle of tickmesh's to judge.
              expect(at26).toBeUndefined();
            }
          }
        },
      );
    }
  }, 120_000);

  /** Each symbol's last push of 21:27 in the capture, marked final, and the trades received before it. */
  function prefixes(events: readonly CapturedEvent[], symbols: readonly string[]) {
    return symbols.map((symbol) => {
      const at = events.findLastIndex((e) => e.kline?.symbol === symbol && e.kline.kline.openTime === MINUTE_27);
      const push = events[at]?.kline as KlineRecord;
      const trades = tradesOf(events.slice(0, at)).filter((t) => t.symbol === symbol);
      return { symbol, final: { ...push, final: true }, trades };
    });
  }

  it("verifies each symbol's last push of 21:27 against the trades received before it, Bybit's open rule applied", async () => {
    for (const side of sides) {
      const ps = prefixes(read(side), side.symbols);
      await replay(
        {
          exchange: side.exchange,
          trades: ps.flatMap((p) => p.trades),
          klines: ps.map((p) => p.final),
          closeAt: MINUTE_27 + 2 * MIN + 30_000,
        },
        async (status) => {
          for (const p of ps) await poll(() => status(p.symbol, MINUTE_27), 'verified');
        },
      );
    }
  }, 120_000);
});
