import { describe, expect, it } from 'vitest';
import { completeMinutes, EXCHANGE, MINUTE } from '../../test/support/binance-futures-capture.js';
import {
  closingTrade,
  klineRecords,
  reconcilingDatabase,
  runReconciling,
  TRADES,
  verificationOf,
} from '../../test/support/reconciler-run.js';
import { createMemoryBus, type MemoryBus } from '../bus/memory-bus.js';
import type { MemoryLog } from '../log/memory-log.js';
import { tradeRecord } from '../log/record.js';
import type { Trade } from '../market/trade.js';
import type { PgliteStore } from '../sink/pglite-store.js';
import type { StoredCandle } from '../sink/verification-store.js';
import { KLINES_TOPIC } from '../verify/kline-record.js';
import type { VerificationEvent } from '../verify/verification.js';

/** A trade two minutes after the capture's minute: it closes that minute and the empty one after it. */
const closing = (t: Trade) => closingTrade(t, MINUTE + 150_000);
const run = (log: MemoryLog, store: PgliteStore, bus?: MemoryBus) => runReconciling(log, store, { bus });
const verification = (store: PgliteStore, symbol: string, openTime: number) =>
  verificationOf(store, EXCHANGE, symbol, openTime);

const db = reconcilingDatabase('reconcile');

describe('reconciler host beside the market actors', () => {
  it('verifies the complete minutes of the Binance USD-M capture, names a removed trade, waits out a missing kline', async () => {
    const { log, store } = await db.setup();
    const bus = createMemoryBus();
    const events: VerificationEvent[] = [];
    const sub = bus.subscribe('tickmesh.verification.>');
    void (async () => {
      for await (const m of sub) events.push(JSON.parse(new TextDecoder().decode(m.data)) as VerificationEvent);
    })();
    // The closed candles' subject: each candle once as the worker closed it, then again judged.
    const candles: Array<StoredCandle & { key: string }> = [];
    const candleSub = bus.subscribe(`tickmesh.candle.closed.1m.${EXCHANGE}.>`);
    void (async () => {
      for await (const m of candleSub) candles.push(JSON.parse(new TextDecoder().decode(m.data)));
    })();
    const minutes = completeMinutes();
    expect(minutes.map((m) => m.symbol).sort()).toEqual(['CTKUSDT', 'KEEPUSDT', 'SUSHIUSDT']);
    const producer = log.producer();
    // The venue's klines first (as live: Binance's final push comes at the close), then the trades.
    await producer.send(KLINES_TOPIC, klineRecords(minutes.map((m) => m.final)));
    for (const m of minutes) {
      // KEEPUSDT loses its first trade on the way in.
      const trades = m.symbol === 'KEEPUSDT' ? m.trades.slice(1) : m.trades;
      await producer.send(
        TRADES,
        [...trades, closing(m.trades.at(-1) as Trade)].map((t) => tradeRecord(t)),
      );
    }
    const r = await run(log, store, bus);
    try {
      await expect
        .poll(async () => (await verification(store, 'SUSHIUSDT', MINUTE))?.status, { timeout: 30_000 })
        .toBe('verified');
      expect((await verification(store, 'CTKUSDT', MINUTE))?.status).toBe('verified');
      const keep = await verification(store, 'KEEPUSDT', MINUTE);
      expect(keep?.status).toBe('mismatch');
      const keepMinute = minutes.find((m) => m.symbol === 'KEEPUSDT');
      const removed = keepMinute?.trades[0]?.tradeCount ?? 1;
      const theirs = keepMinute?.final.kline.trades ?? 0;
      expect(keep?.differences).toContainEqual({
        field: 'trades',
        ours: String(theirs - removed),
        theirs: String(theirs),
      });
      expect(keep?.differences?.map((d) => d.field)).toEqual(
        expect.arrayContaining(['volume', 'quoteVolume', 'trades']),
      );
      // The minute after has no kline at all: unverifiable once the wait is over.
      await expect
        .poll(async () => (await verification(store, 'SUSHIUSDT', MINUTE + 60_000))?.status, { timeout: 30_000 })
        .toBe('unverifiable');
      await expect.poll(() => events.filter((e) => e.openTime === MINUTE).length).toBe(3);
      expect(events.find((e) => e.symbol === 'KEEPUSDT' && e.openTime === MINUTE)?.status).toBe('mismatch');
      // The candle subject carries the judgement too: KEEPUSDT's candle again, with its mismatch.
      await expect
        .poll(() => candles.find((c) => c.symbol === 'KEEPUSDT' && c.openTime === MINUTE && c.verification))
        .toBeDefined();
      const judged = candles.filter((c) => c.symbol === 'KEEPUSDT' && c.openTime === MINUTE);
      expect(judged.map((c) => c.verification?.status ?? null)).toEqual([null, 'mismatch']);
      const [plain, withVerdict] = judged;
      expect({ ...withVerdict, verification: undefined }).toEqual({ ...plain, verification: undefined });
      expect(withVerdict?.verification).toEqual(keep);
    } finally {
      candleSub.unsubscribe();
      sub.unsubscribe();
      await r.stop();
    }
  }, 120_000);

  it('judges after a restart a candle committed before it, with the kline that comes after', async () => {
    const { log, store } = await db.setup();
    const [m] = completeMinutes();
    if (m === undefined) throw new Error('no complete minute');
    const producer = log.producer();
    await producer.send(
      TRADES,
      [...m.trades, closing(m.trades.at(-1) as Trade)].map((t) => tradeRecord(t)),
    );
    const first = await run(log, store);
    await expect
      .poll(
        async () =>
          (await store.candles({ exchange: EXCHANGE, symbol: m.symbol, interval: '1m', from: MINUTE, to: MINUTE + 1 }))
            .length,
        {
          timeout: 30_000,
        },
      )
      .toBe(1);
    // Gone before the kline came (close() commits nothing: as a SIGKILL, from the store's view).
    await first.worker.close();
    await first.host.close();
    expect(await verification(store, m.symbol, MINUTE)).toBeUndefined();
    await producer.send(KLINES_TOPIC, klineRecords([m.final]));
    const second = await run(log, store);
    try {
      await expect
        .poll(async () => (await verification(store, m.symbol, MINUTE))?.status, { timeout: 30_000 })
        .toBe('verified');
    } finally {
      await second.stop();
    }
  }, 120_000);
});
