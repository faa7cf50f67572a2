import { describe, expect, it } from 'vitest';
import { FencedError } from '../../internal/runtime/errors.js';
import type { Store } from '../../internal/sink/store.js';
import type { VerificationCommit } from '../../internal/sink/verification-store.js';
import { type VerificationEvent, verificationEventOf } from '../../internal/verify/verification.js';
import { batch, candle } from './store-contract.js';

/** The candle the tests judge (made on use: store-contract.ts imports this file). */
const first = () => candle();

/**
 * The verification part of the Store contract (internal/sink/verification-store.ts), run by
 * defineStoreContract against every adapter: `open` gives a fresh, migrated store.
 */
const KLINES = 'tickmesh.klines.v1';

function event(over: Partial<VerificationEvent> = {}): VerificationEvent {
  return {
    exchange: first().exchange,
    symbol: first().symbol,
    interval: first().interval,
    openTime: first().openTime,
    status: 'verified',
    revision: 0,
    conventionDifferences: [],
    checkedAt: 1_000,
    ...over,
  } as VerificationEvent;
}

const mismatch = (over: Partial<VerificationEvent> = {}) =>
  event({
    status: 'mismatch',
    differences: [{ field: 'volume', ours: '1.2', theirs: '1.3' }],
    conventionDifferences: [],
    ...over,
  });

function commit(over: Partial<VerificationCommit> = {}): VerificationCommit {
  return {
    topic: KLINES,
    partition: 0,
    epoch: 1,
    nextOffset: 5n,
    state: new Uint8Array([7]),
    verifications: [],
    ...over,
  };
}

const stored = async (store: Store) =>
  (await store.candles({ exchange: first().exchange, symbol: first().symbol, interval: '1m', from: 0 }))[0];

export function defineVerificationStoreContract(open: () => Promise<Store>): void {
  describe('candle verification', () => {
    it('writes a judgement into the row of the revision it judged, with the klines checkpoint', async () => {
      const store = await open();
      await store.commit(batch({ candles: [first()] }));
      expect((await stored(store))?.verification).toBeUndefined();
      const v = mismatch();
      const { exchange, symbol, interval, openTime, ...judgement } = v;
      // It answers with the row as the judgement left it: the candle and its verification.
      const judged = await store.commitVerifications(commit({ verifications: [v] }));
      expect(judged).toEqual([{ ...first(), verification: judgement }]);
      expect(judged.map(verificationEventOf)).toEqual([v]);
      expect((await stored(store))?.verification).toEqual(judgement);
      const cp = await store.loadCheckpoint(KLINES, 0);
      expect(cp?.nextOffset).toBe(5n);
      expect([...(cp?.state ?? [])]).toEqual([7]);
      // The same judgement again (a replay) changes nothing and is not reported.
      expect(await store.commitVerifications(commit({ verifications: [mismatch({ checkedAt: 9 })] }))).toEqual([]);
      expect((await stored(store))?.verification?.checkedAt).toBe(1_000);
    });

    it('a revision clears the judgement; a stale judgement of the old revision lands nowhere', async () => {
      const store = await open();
      await store.commit(batch({ candles: [first()] }));
      await store.commitVerifications(commit({ verifications: [event()] }));
      // A replay of the same revision keeps it.
      await store.commit(batch({ nextOffset: 101n, candles: [first()] }));
      expect((await stored(store))?.verification?.status).toBe('verified');
      await store.commit(batch({ nextOffset: 102n, candles: [candle({ revision: 1, volume: '2' })] }));
      expect((await stored(store))?.verification).toBeUndefined();
      expect(await store.commitVerifications(commit({ verifications: [event({ revision: 0 })] }))).toEqual([]);
      expect((await stored(store))?.verification).toBeUndefined();
      const unverified = await store.unverifiedCandles({
        horizonMs: 0,
        intervals: ['1m'],
        markets: [{ exchange: first().exchange, symbol: first().symbol }],
        limit: 10,
      });
      expect(unverified.map((c) => [c.openTime, c.revision])).toEqual([[first().openTime, 1]]);
      await store.commitVerifications(commit({ verifications: [mismatch({ revision: 1 })] }));
      expect((await stored(store))?.verification?.revision).toBe(1);
    });

    it('never lets an unverifiable replace a judgement made with the kline', async () => {
      const store = await open();
      await store.commit(batch({ candles: [first()] }));
      await store.commitVerifications(commit({ verifications: [event()] }));
      const late = event({ status: 'unverifiable', reason: 'no kline in time', checkedAt: 2 });
      expect(await store.commitVerifications(commit({ verifications: [late] }))).toEqual([]);
      expect((await stored(store))?.verification?.status).toBe('verified');
      // A venue's own correction does replace it.
      expect(await store.commitVerifications(commit({ verifications: [mismatch()] }))).toHaveLength(1);
    });

    it('lists the unjudged candles of the markets and intervals asked for, the newest, oldest first', async () => {
      const store = await open();
      const minutes = [0, 1, 2, 3].map((i) => candle({ openTime: first().openTime + i * 60_000 }));
      const other = candle({ symbol: 'ETHUSDT' });
      const hour = candle({ interval: '1h' });
      await store.commit(batch({ candles: [...minutes, other, hour] }));
      await store.commitVerifications(commit({ verifications: [event({ openTime: minutes[3]?.openTime })] }));
      const got = await store.unverifiedCandles({
        horizonMs: 120_000,
        intervals: ['1m'],
        markets: [{ exchange: first().exchange, symbol: first().symbol }],
        limit: 10,
      });
      expect(got.map((c) => c.openTime)).toEqual([minutes[1]?.openTime, minutes[2]?.openTime]);
      const newest = await store.unverifiedCandles({
        horizonMs: 86_400_000,
        intervals: ['1m', '1h'],
        markets: [{ exchange: first().exchange, symbol: first().symbol }],
        limit: 2,
      });
      expect(newest.map((c) => [c.interval, c.openTime])).toEqual([
        ['1m', minutes[1]?.openTime],
        ['1m', minutes[2]?.openTime],
      ]);
      const all = await store.unverifiedCandles({
        horizonMs: 86_400_000,
        intervals: ['1m', '1h'],
        markets: [{ exchange: first().exchange, symbol: first().symbol }],
        limit: 10,
      });
      expect(all.map((c) => c.interval).sort()).toEqual(['1h', '1m', '1m', '1m']);
    });

    it('fences a commit from an older epoch of the klines partition', async () => {
      const store = await open();
      await store.commit(batch({ candles: [first()] }));
      await store.claim(KLINES, 0, 3);
      await expect(store.commitVerifications(commit({ epoch: 2, verifications: [event()] }))).rejects.toBeInstanceOf(
        FencedError,
      );
      expect((await stored(store))?.verification).toBeUndefined();
      expect(await store.commitVerifications(commit({ epoch: 3, verifications: [event()] }))).toHaveLength(1);
    });
  });
}
