import { afterEach, describe, expect, it } from 'vitest';
import type { TrendPrediction } from '../../internal/actor/output.js';
import type { Alert } from '../../internal/market/alert.js';
import type { Candle } from '../../internal/market/candle.js';
import type { IndicatorValues } from '../../internal/market/indicator-values.js';
import { INTERVALS, type Interval, windowEnd } from '../../internal/market/interval.js';
import { FencedError, InputError } from '../../internal/runtime/errors.js';
import type { CommitBatch, Store } from '../../internal/sink/store.js';
import { defineContextStoreContract } from './context-store-contract.js';
import { defineVerificationStoreContract } from './verification-store-contract.js';

/**
 * The one test suite every Store adapter passes (PGlite in the unit project, PostgreSQL in the
 * integration project). Each test gets a fresh, empty database (a fresh schema on PostgreSQL).
 */
export interface StoreSubject {
  readonly store: Store;
  /** A second Store on the same database (its own connections where the adapter has several). */
  reopen(): Promise<Store>;
  close(): Promise<void>;
}

const JAN = Date.UTC(2024, 0, 15, 10, 0);
const FEB = Date.UTC(2024, 1, 3, 0, 0);

export function candle(over: Partial<Candle> = {}): Candle {
  const interval: Interval = over.interval ?? '1m';
  const openTime = over.openTime ?? JAN;
  return {
    exchange: 'binance',
    symbol: 'BTCUSDT',
    market: 'BTC-USDT',
    interval,
    openTime,
    closeTime: windowEnd(interval, openTime) - 1,
    open: '42000.10',
    high: '42010.00000001',
    low: '41990.5',
    close: '42005.25',
    volume: '1.23456789',
    quoteVolume: '51851.123456789012345678',
    trades: 17,
    takerBuyVolume: '0.5',
    takerBuyQuoteVolume: '21000.05',
    vwap: '42000.123456789',
    firstTradeId: '1000',
    lastTradeId: '1016',
    revision: 0,
    closed: true,
    ...over,
  };
}

export function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'binance:BTCUSDT:price_spike:1m:1705312800000',
    exchange: 'binance',
    symbol: 'BTCUSDT',
    market: 'BTC-USDT',
    kind: 'price_spike',
    severity: 'warning',
    time: JAN,
    interval: '1m',
    message: 'price moved 4.1 sigma in 1m',
    evidence: { close: '42005.25', zscore: 4.1 },
    ...over,
  };
}

export function prediction(over: Partial<TrendPrediction> = {}): TrendPrediction {
  const openTime = over.openTime ?? JAN;
  const score = { accuracy: 0.55, logLoss: 0.6812345678901234, brier: 0.2431 };
  return {
    exchange: 'binance',
    symbol: 'BTCUSDT',
    market: 'BTC-USDT',
    interval: '1m',
    openTime,
    targetOpenTime: openTime + 60_000,
    pUp: 0.5731234567890123,
    baselines: { persistence: 1, majority: 0.5208333333333334, coin: 0.5 },
    scores: {
      scored: 48,
      model: score,
      baselines: {
        persistence: { accuracy: 0.5, logLoss: 6.9, brier: 0.5 },
        majority: { accuracy: 0.52, logLoss: 0.69, brier: 0.249 },
        coin: { accuracy: 0.5, logLoss: Math.LN2, brier: 0.25 },
      },
      verdicts: { persistence: 'better', majority: 'no-difference', coin: 'too-few' },
      beatsBaselines: false,
    },
    ...over,
  };
}

export function indicators(c: Candle, over: Partial<IndicatorValues> = {}): IndicatorValues {
  return {
    exchange: c.exchange,
    symbol: c.symbol,
    market: c.market,
    interval: c.interval,
    openTime: c.openTime,
    vwap: 42_001.123456789,
    sma: { '5': 42_000.5, '20': null },
    ema: { '9': Math.PI * 1e4, '21': null },
    volatility: null,
    imbalance: 1 / 3,
    ...over,
  };
}

/** A commit of partition 0 at epoch 1 with no rows but those of `over`. */
export function batch(over: Partial<CommitBatch> = {}): CommitBatch {
  return {
    topic: 'tickmesh.trades.v1',
    partition: 0,
    epoch: 1,
    nextOffset: 100n,
    state: new Uint8Array([1, 2, 3]),
    candles: [],
    alerts: [],
    ...over,
  };
}

const q = (store: Store, over: Partial<Parameters<Store['candles']>[0]> = {}) =>
  store.candles({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', from: 0, to: Date.UTC(2100, 0), ...over });

export function defineStoreContract(name: string, make: () => Promise<StoreSubject>): void {
  describe(`Store contract: ${name}`, () => {
    let subject: StoreSubject | undefined;
    const others: Store[] = [];
    const open = async (): Promise<Store> => {
      subject = await make();
      await subject.store.migrate();
      return subject.store;
    };
    afterEach(async () => {
      for (const o of others.splice(0)) await o.close();
      await subject?.close();
      subject = undefined;
    });

    it('migrate is idempotent and a new partition has no checkpoint', async () => {
      const store = await open();
      await store.migrate();
      expect(await store.loadCheckpoint('tickmesh.trades.v1', 0)).toBeNull();
      expect(await q(store)).toEqual([]);
      expect(await store.alerts()).toEqual([]);
    });

    it('commit writes candles, alerts and the checkpoint; loadCheckpoint reads it back exactly', async () => {
      const store = await open();
      const state = new Uint8Array([0, 255, 7, 0, 42]);
      const c1 = candle();
      const c2 = candle({ openTime: JAN + 60_000, firstTradeId: '1017', lastTradeId: '1017', trades: 1 });
      await store.commit(
        batch({ epoch: 3, nextOffset: 9_007_199_254_740_993n, state, candles: [c1, c2], alerts: [alert()] }),
      );
      expect(await store.loadCheckpoint('tickmesh.trades.v1', 0)).toEqual({
        topic: 'tickmesh.trades.v1',
        partition: 0,
        epoch: 3,
        nextOffset: 9_007_199_254_740_993n,
        state,
      });
      expect(await store.loadCheckpoint('tickmesh.trades.v1', 1)).toBeNull();
      expect(await q(store)).toEqual([c1, c2]);
      expect(await store.alerts()).toEqual([alert()]);
    });

    it('commits indicators with their candles in the checkpoint transaction: exact doubles, fenced, retained', async () => {
      const store = await open();
      const c1 = candle();
      const c2 = candle({ openTime: JAN + 60_000 });
      const v1 = indicators(c1);
      const v2 = indicators(c2, {
        vwap: 0.1 + 0.2,
        volatility: 1e-300,
        imbalance: -1,
        sma: { '20': 42_000.000000001 },
      });
      await store.commit(batch({ epoch: 2, candles: [c1, c2], indicators: [v1, v2] }));
      const iq = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m' as const };
      expect(await store.indicators({ ...iq, from: 0 })).toEqual([v1, v2]);
      expect(await store.indicators({ ...iq, limit: 1 })).toEqual([v2]);
      // A replay rewrites the same rows; a fenced commit writes none of them.
      await store.commit(batch({ epoch: 2, candles: [c2], indicators: [v2] }));
      const c3 = candle({ openTime: JAN + 120_000 });
      await expect(
        store.commit(batch({ epoch: 1, candles: [c3], indicators: [indicators(c3)] })),
      ).rejects.toBeInstanceOf(FencedError);
      expect(await store.indicators({ ...iq, from: 0 })).toEqual([v1, v2]);
      const r = await store.applyRetention({ '1m': 86_400_000 }, JAN + 86_400_000 + 30_000);
      expect(r.indicatorsDeleted['1m']).toBe(1);
      expect(await store.indicators({ ...iq, from: 0 })).toEqual([v2]);
    });

    it('keeps decimals exact, empty candles and every interval', async () => {
      const store = await open();
      const exact = candle({
        open: '0.00000001',
        high: '123456789012345678.123456789012345678',
        low: '0.00000001',
        close: '98765.43210000',
        volume: '0.000000000000000001',
      });
      const empty = candle({
        openTime: JAN + 60_000,
        open: '98765.43210000',
        high: '98765.43210000',
        low: '98765.43210000',
        close: '98765.43210000',
        volume: '0',
        quoteVolume: '0',
        trades: 0,
        takerBuyVolume: '0',
        takerBuyQuoteVolume: '0',
        vwap: '98765.43210000',
        firstTradeId: '',
        lastTradeId: '',
      });
      const all = INTERVALS.map((interval) => candle({ interval, openTime: Date.UTC(2024, 0, 1) }));
      await store.commit(batch({ candles: [exact, empty, ...all.filter((c) => c.interval !== '1m')] }));
      expect(await q(store)).toEqual([exact, empty]);
      for (const c of all.filter((x) => x.interval !== '1m')) {
        expect(await q(store, { interval: c.interval })).toEqual([c]);
      }
    });

    it('fencing: a commit from an older epoch is refused inside the transaction and writes nothing', async () => {
      const store = await open();
      await store.commit(batch({ epoch: 2, nextOffset: 10n, candles: [candle()], alerts: [alert()] }));
      const before = {
        candles: await q(store),
        alerts: await store.alerts(),
        cp: await store.loadCheckpoint('tickmesh.trades.v1', 0),
      };

      // The stale owner's batch: a revision of a stored candle, a candle in a month with no
      // partition yet, an alert, and a later offset. None of it may land.
      const stale = batch({
        epoch: 1,
        nextOffset: 20n,
        state: new Uint8Array([9]),
        candles: [candle({ revision: 5, close: '1' }), candle({ openTime: FEB })],
        alerts: [alert({ id: 'stale-alert' })],
      });
      await expect(store.commit(stale)).rejects.toBeInstanceOf(FencedError);
      expect(await q(store)).toEqual(before.candles);
      expect(await store.alerts()).toEqual(before.alerts);
      expect(await store.loadCheckpoint('tickmesh.trades.v1', 0)).toEqual(before.cp);

      // The same epoch and a higher one commit.
      await store.commit(batch({ epoch: 2, nextOffset: 11n }));
      await store.commit(batch({ epoch: 4, nextOffset: 12n }));
      expect((await store.loadCheckpoint('tickmesh.trades.v1', 0))?.epoch).toBe(4);
      await expect(store.commit(batch({ epoch: 3, nextOffset: 13n }))).rejects.toBeInstanceOf(FencedError);
      expect((await store.loadCheckpoint('tickmesh.trades.v1', 0))?.nextOffset).toBe(12n);
    });

    it('claim raises the fence for a new owner and returns the checkpoint to start from', async () => {
      const store = await open();
      expect(await store.claim('t', 5, 1)).toBeNull();
      // Claimed but never committed: still no checkpoint.
      expect(await store.loadCheckpoint('t', 5)).toBeNull();
      await store.commit(batch({ topic: 't', partition: 5, epoch: 1, nextOffset: 50n, state: new Uint8Array([5]) }));

      const resumed = await store.claim('t', 5, 2);
      expect(resumed).toEqual({ topic: 't', partition: 5, epoch: 2, nextOffset: 50n, state: new Uint8Array([5]) });
      // The old owner, still running, can no longer commit; nor can it claim back.
      await expect(store.commit(batch({ topic: 't', partition: 5, epoch: 1, nextOffset: 60n }))).rejects.toBeInstanceOf(
        FencedError,
      );
      await expect(store.claim('t', 5, 1)).rejects.toBeInstanceOf(FencedError);
      expect(await store.loadCheckpoint('t', 5)).toEqual(resumed);
      // Re-claiming with the current epoch is harmless.
      expect(await store.claim('t', 5, 2)).toEqual(resumed);
      // Other partitions are independent.
      expect(await store.claim('t', 6, 1)).toBeNull();
    });

    it('replaying the same commit leaves every table identical', async () => {
      const store = await open();
      const b = batch({
        candles: [
          candle(),
          candle({ openTime: JAN + 60_000 }),
          candle({ interval: '5m', openTime: Date.UTC(2024, 0, 15, 10, 0) }),
        ],
        alerts: [alert(), alert({ id: 'a2', kind: 'volume_spike', interval: undefined })],
      });
      await store.commit(b);
      const snapshot = async () => ({
        m1: await q(store),
        m5: await q(store, { interval: '5m' }),
        alerts: await store.alerts(),
        cp: await store.loadCheckpoint(b.topic, b.partition),
      });
      const first = await snapshot();
      await store.commit(b);
      await store.commit(b);
      expect(await snapshot()).toEqual(first);
      expect(first.alerts.find((a) => a.id === 'a2')).not.toHaveProperty('interval');
    });

    it('a candle is only replaced by a revision at least as high', async () => {
      const store = await open();
      await store.commit(batch({ candles: [candle({ revision: 1, close: '42001' })] }));
      await store.commit(batch({ candles: [candle({ revision: 0, close: '40000' })] }));
      expect((await q(store))[0]).toMatchObject({ revision: 1, close: '42001' });
      await store.commit(
        batch({ candles: [candle({ revision: 2, close: '42002', trades: 18, lastTradeId: '1020' })] }),
      );
      expect((await q(store))[0]).toMatchObject({ revision: 2, close: '42002', trades: 18, lastTradeId: '1020' });
      // Several revisions of one candle in one batch, in any order: the highest wins.
      await store.commit(
        batch({
          candles: [
            candle({ revision: 4, close: '42004' }),
            candle({ revision: 3, close: '42003' }),
            candle({ openTime: JAN + 60_000, revision: 0, close: '1' }),
            candle({ openTime: JAN + 60_000, revision: 1, close: '2' }),
          ],
        }),
      );
      expect((await q(store)).map((c) => [c.revision, c.close])).toEqual([
        [4, '42004'],
        [1, '2'],
      ]);
    });

    it('alerts are inserted once by id and filtered by market and time', async () => {
      const store = await open();
      const a1 = alert();
      const a2 = alert({ id: 'k2', symbol: 'ETHUSDT', market: 'ETH-USDT', time: JAN + 1000, evidence: { n: 1 } });
      const a3 = alert({ id: 'k3', time: FEB, severity: 'critical' });
      await store.commit(batch({ alerts: [a1, a2] }));
      await store.commit(batch({ alerts: [a1, alert({ id: a1.id, message: 'changed' }), a3] }));
      expect(await store.alerts()).toEqual([a1, a2, a3]);
      expect(await store.alerts({ symbol: 'BTCUSDT' })).toEqual([a1, a3]);
      expect(await store.alerts({ from: JAN + 1, to: FEB })).toEqual([a2]);
      expect(await store.alerts({ limit: 1 })).toEqual([a1]);
      expect(await store.alerts({ limit: 2, newest: true })).toEqual([a2, a3]);
      expect(await store.alerts({ to: FEB, limit: 1, newest: true })).toEqual([a2]);
    });

    it('alerts are filtered by kind and read after a (time, id) cursor', async () => {
      const store = await open();
      const a1 = alert({ id: 'b', kind: 'divergence' });
      const a2 = alert({ id: 'a', time: JAN + 1 });
      const a3 = alert({ id: 'c', time: JAN + 1, kind: 'divergence' });
      await store.commit(batch({ alerts: [a1, a2, a3] }));
      expect(await store.alerts({ kind: 'divergence' })).toEqual([a1, a3]);
      expect(await store.alerts({ after: { time: JAN, id: 'b' } })).toEqual([a2, a3]);
      expect(await store.alerts({ after: { time: JAN + 1, id: 'a' } })).toEqual([a3]);
      expect(await store.alerts({ after: { time: JAN + 1, id: 'a' }, kind: 'price_spike' })).toEqual([]);
    });

    it('index alerts are committed once with their state, which reads back', async () => {
      const store = await open();
      expect(await store.loadIndexState('BTC')).toBeNull();
      const a = alert({ id: 'divergence:BTC:kraken:XBT/USD:1', kind: 'divergence', interval: undefined });
      await store.commitIndex({ asset: 'BTC', diverging: ['kraken:XBT/USD', 'binance:BTCUSDT'] }, [a]);
      await store.commitIndex({ asset: 'BTC', diverging: ['kraken:XBT/USD'] }, [a, alert({ ...a, message: 'again' })]);
      expect(await store.alerts()).toEqual([a]);
      expect(await store.loadIndexState('BTC')).toEqual({ asset: 'BTC', diverging: ['kraken:XBT/USD'] });
      await store.commitIndex({ asset: 'BTC', diverging: [] }, []);
      expect(await store.loadIndexState('BTC')).toEqual({ asset: 'BTC', diverging: [] });
    });

    it('predictions are committed with the checkpoint, kept once per candle, read back exactly and expire', async () => {
      const store = await open();
      const ps = Array.from({ length: 4 }, (_, i) => prediction({ openTime: JAN + i * 60_000 }));
      const eth = prediction({ symbol: 'ETHUSDT', market: 'ETH-USDT' });
      await store.commit(batch({ predictions: [...ps, eth] }));
      const pq = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m' } as const;
      expect(await store.predictions({ ...pq, from: 0 })).toEqual(ps);
      // Replay of the same batch, or a stale writer's other value: the first row stays.
      await store.commit(batch({ predictions: [{ ...ps[0], pUp: 0.1 } as TrendPrediction] }));
      expect(await store.predictions({ ...pq, from: JAN, to: JAN + 120_000 })).toEqual(ps.slice(0, 2));
      expect(await store.predictions({ ...pq, limit: 1 })).toEqual(ps.slice(3));
      expect(await store.predictions({ ...pq, symbol: 'ETHUSDT', limit: 5 })).toEqual([eth]);
      // A fenced commit writes no prediction.
      await store.commit(batch({ epoch: 2 }));
      const late = prediction({ openTime: JAN + 10 * 60_000 });
      await expect(store.commit(batch({ epoch: 1, predictions: [late] }))).rejects.toBeInstanceOf(FencedError);
      expect(await store.predictions({ ...pq, limit: 10 })).toEqual(ps);
      const r = await store.applyRetention({ '1m': 60_000 }, JAN + 3 * 60_000);
      expect(r.predictionsDeleted['1m']).toBe(3); // Two of BTCUSDT, the one of ETHUSDT.
      expect(await store.predictions({ ...pq, limit: 10 })).toEqual(ps.slice(2));
    });

    it('markets lists each market with stored candles once, by exchange then symbol', async () => {
      const store = await open();
      expect(await store.markets()).toEqual([]);
      const eth = { symbol: 'ETHUSDT', market: 'ETH-USDT' };
      await store.commit(
        batch({
          candles: [
            candle(),
            candle({ openTime: FEB }),
            candle({ interval: '1h', openTime: Date.UTC(2024, 0, 15, 10) }),
            candle({ ...eth, exchange: 'okx' }),
            candle(eth),
          ],
        }),
      );
      expect(await store.markets()).toEqual([
        { exchange: 'binance', symbol: 'BTCUSDT', market: 'BTC-USDT' },
        { exchange: 'binance', symbol: 'ETHUSDT', market: 'ETH-USDT' },
        { exchange: 'okx', symbol: 'ETHUSDT', market: 'ETH-USDT' },
      ]);
    });

    it('candle queries select a range or the latest rows, oldest first', async () => {
      const store = await open();
      const cs = Array.from({ length: 5 }, (_, i) => candle({ openTime: JAN + i * 60_000 }));
      await store.commit(batch({ candles: [...cs, candle({ symbol: 'ETHUSDT', market: 'ETH-USDT' })] }));
      expect(await q(store, { from: JAN + 60_000, to: JAN + 180_000 })).toEqual(cs.slice(1, 3));
      expect(await store.candles({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', limit: 2 })).toEqual(
        cs.slice(3),
      );
      expect(await q(store, { limit: 2 })).toEqual(cs.slice(0, 2));
    });

    it('candles spanning months land in monthly partitions; retention deletes per interval and drops expired months', async () => {
      const store = await open();
      const dec = candle({ openTime: Date.UTC(2023, 11, 31, 23, 59) });
      const jan = candle({ openTime: JAN });
      const feb = candle({ openTime: Date.UTC(2024, 1, 10) });
      const jan1d = candle({ interval: '1d', openTime: Date.UTC(2024, 0, 15) });
      await store.commit(batch({ candles: [dec, jan, feb, jan1d] }));
      expect(await q(store)).toEqual([dec, jan, feb]);

      const now = Date.UTC(2024, 1, 20);
      // 1m kept 30 days: December and mid-January go, February stays; 1d is kept forever.
      const r1 = await store.applyRetention({ '1m': 30 * 86_400_000 }, now);
      expect(r1.deleted['1m']).toBe(2);
      expect(r1.droppedPartitions).toEqual([]);
      expect(await q(store)).toEqual([feb]);
      expect(await q(store, { interval: '1d' })).toEqual([jan1d]);

      // Every interval finite: months wholly older than the longest retention are dropped
      // (horizon Feb 5: December and January end before it, February does not).
      const all = Object.fromEntries(INTERVALS.map((i) => [i, 15 * 86_400_000]));
      const r2 = await store.applyRetention(all, now);
      expect(r2.droppedPartitions).toEqual(['candles_p202312', 'candles_p202401']);
      expect(await q(store, { interval: '1d' })).toEqual([]);
      expect(await q(store)).toEqual([feb]);

      // A later commit into a dropped month recreates its partition.
      await store.commit(batch({ candles: [jan] }));
      expect(await q(store)).toEqual([jan, feb]);
    });

    it('commits of different partitions interleave without interference', async () => {
      const store = await open();
      await Promise.all(
        [0, 1, 2, 3].map(async (p) => {
          for (let i = 0; i < 5; i++) {
            await store.commit(
              batch({
                partition: p,
                nextOffset: BigInt(i + 1),
                candles: [candle({ symbol: `S${p}`, openTime: JAN + i * 60_000 })],
              }),
            );
          }
        }),
      );
      for (const p of [0, 1, 2, 3]) {
        expect((await store.loadCheckpoint('tickmesh.trades.v1', p))?.nextOffset).toBe(5n);
        expect(await q(store, { symbol: `S${p}` })).toHaveLength(5);
      }
    });

    it('a value the database refuses fails the commit with InputError, writes nothing, and refused() names its row', async () => {
      const store = await open();
      const good = candle({ openTime: JAN });
      const bad = candle({ openTime: JAN + 60_000, lastTradeId: 'x\u0000y' });
      const badAlert = alert({ id: 'bad', message: 'a\u0000b' });
      const okAlert = alert({ id: 'ok' });
      const rows = { candles: [good, bad, candle({ openTime: JAN + 120_000 })], alerts: [okAlert, badAlert] };
      const err = await store.commit(batch({ nextOffset: 5n, ...rows })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).reason).toBe('store-refused');
      expect(await store.loadCheckpoint('tickmesh.trades.v1', 0)).toBeNull();

      const refused = await store.refused(rows);
      expect(refused.candles.map((r) => r.row)).toEqual([bad]);
      expect(refused.alerts.map((r) => r.row)).toEqual([badAlert]);
      expect(refused.candles[0]?.reason).toMatch(/22/);
      // The probe wrote nothing; the rest commits.
      expect(await q(store)).toEqual([]);
      await store.commit(batch({ nextOffset: 5n, candles: [good], alerts: [okAlert] }));
      expect(await q(store)).toEqual([good]);
    });

    it('retention deletes alerts older than the alerts retention, and keeps them without one', async () => {
      const store = await open();
      const old = alert({ id: 'old', time: JAN });
      const recent = alert({ id: 'recent', time: FEB });
      await store.commit(batch({ alerts: [old, recent] }));
      const now = FEB + 86_400_000;
      expect((await store.applyRetention({}, now)).alertsDeleted).toBe(0);
      expect((await store.alerts()).map((a) => a.id)).toEqual(['old', 'recent']);
      const r = await store.applyRetention({ alerts: 10 * 86_400_000 }, now);
      expect(r.alertsDeleted).toBe(1);
      expect((await store.alerts()).map((a) => a.id)).toEqual(['recent']);
    });

    it('two owners racing on one partition: only the higher epoch survives', async () => {
      const store = await open();
      const other = await subject!.reopen();
      others.push(other);
      await store.claim('t', 0, 1);
      await other.claim('t', 0, 2);
      const results = await Promise.allSettled([
        store.commit(batch({ topic: 't', epoch: 1, nextOffset: 1n, candles: [candle({ close: '1' })] })),
        other.commit(batch({ topic: 't', epoch: 2, nextOffset: 2n, candles: [candle({ close: '2' })] })),
      ]);
      expect(results[0].status).toBe('rejected');
      expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(FencedError);
      expect(results[1].status).toBe('fulfilled');
      expect((await q(store))[0]?.close).toBe('2');
      expect((await store.loadCheckpoint('t', 0))?.nextOffset).toBe(2n);
    });

    defineContextStoreContract(open);
    defineVerificationStoreContract(open);
  });
}
