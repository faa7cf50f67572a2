import { describe, expect, it } from 'vitest';
import { candle } from '../../test/contracts/store-contract.js';
import type { Candle } from '../market/candle.js';
import type { KlineRecord } from '../verify/kline-record.js';
import { ReconcilerPartition } from './reconciler-partition.js';
import { decodeReconcilerState } from './reconciler-state.js';

const MINUTE = 60_000;
const T = Date.UTC(2024, 0, 15, 10, 0);

function kline(c: Candle, final: boolean | undefined, over: Partial<KlineRecord['kline']> = {}): KlineRecord {
  return {
    v: 1,
    exchange: c.exchange,
    symbol: c.symbol,
    market: c.market,
    interval: c.interval,
    final,
    receivedAt: c.closeTime + 1,
    kline: {
      openTime: c.openTime,
      open: c.open,
      high: c.high,
      low: c.low,
      close: c.close,
      volume: c.volume,
      quoteVolume: c.quoteVolume,
      trades: c.trades,
      takerBuyVolume: c.takerBuyVolume,
      takerBuyQuoteVolume: c.takerBuyQuoteVolume,
      ...over,
    },
  };
}

const options = { intervals: ['1m'] as const, waitMs: 10_000, settleMs: 5_000, maxWindows: 3 };

describe('ReconcilerPartition', () => {
  it('keeps in its state only the pushes not yet judged with, and names the symbol of each judgement', () => {
    const p = new ReconcilerPartition(0, options, 0n);
    const [a, b] = [candle({ openTime: T }), candle({ openTime: T + MINUTE })];
    p.push(kline(a, true), T + MINUTE, 0n);
    p.push(kline(b, false), T + 2 * MINUTE, 1n);
    const before = p.take();
    expect(before.nextOffset).toBe(2n);
    expect(decodeReconcilerState(before.state).map((r) => r.kline.openTime)).toEqual([T, T + MINUTE]);
    p.candles([a], T + MINUTE + 10);
    const after = p.take();
    expect(after.verifications).toMatchObject([
      { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', openTime: T, status: 'verified', revision: 0 },
    ]);
    // Judged with its kline: a restart need not bring it back; the other one waits.
    expect(decodeReconcilerState(after.state).map((r) => r.kline.openTime)).toEqual([T + MINUTE]);
    expect(p.dirty).toBe(false);
  });

  it('holds at most maxWindows pushes per series; older ones are dropped and counted as too late', () => {
    const p = new ReconcilerPartition(0, options, 0n);
    const minutes = [0, 1, 2, 3, 4].map((i) => candle({ openTime: T + i * MINUTE }));
    minutes.forEach((c, i) => {
      p.push(kline(c, true), T, BigInt(i));
    });
    expect(decodeReconcilerState(p.take().state).map((r) => r.kline.openTime)).toEqual(
      minutes.slice(2).map((c) => c.openTime),
    );
    p.push(kline(minutes[0] as Candle, true), T, 5n);
    expect(p.takeDropped()).toEqual(new Map([['binance', 1]]));
    expect(p.takeDropped()).toEqual(new Map());
  });

  it('gives a failed commit its judgements back, unless a newer one of the candle came', () => {
    const p = new ReconcilerPartition(0, options, 0n);
    const c = candle({ openTime: T });
    p.push(kline(c, true, { volume: '9' }), T, 0n);
    p.candles([c], T + MINUTE);
    const failed = p.take();
    expect(failed.verifications.map((v) => v.status)).toEqual(['mismatch']);
    p.untake(failed);
    expect(p.take().verifications).toEqual(failed.verifications);
    p.untake(failed);
    p.push(kline(c, true), T, 1n); // the venue's correction
    const next = p.take().verifications;
    expect(next.map((v) => v.status)).toEqual(['verified']);
  });

  it('ignores records below its offset, intervals not judged and venues without a convention', () => {
    const p = new ReconcilerPartition(0, options, 10n);
    const c = candle({ openTime: T });
    p.push(kline(c, true), T, 3n);
    expect(p.nextOffset).toBe(10n);
    p.push(kline(candle({ interval: '5m' }), true), T, 10n);
    p.push({ ...kline(c, true), exchange: 'nowhere' }, T, 11n);
    expect(p.nextOffset).toBe(12n);
    expect(decodeReconcilerState(p.take().state)).toEqual([]);
  });

  it('forgets a market idle for forgetIdleMs: its windows and its pending pushes', () => {
    const p = new ReconcilerPartition(0, { ...options, forgetIdleMs: 10 * MINUTE }, 0n);
    const [btc, eth] = [candle({ openTime: T }), candle({ openTime: T, symbol: 'ETHUSDT', market: 'ETH-USDT' })];
    p.push(kline(btc, false), T, 0n);
    p.push(kline(eth, false), T + 5 * MINUTE, 1n);
    p.tick(T + 10 * MINUTE);
    expect(p.markets).toBe(1);
    expect(decodeReconcilerState(p.take().state).map((r) => r.symbol)).toEqual(['ETHUSDT']);
    // Its candle, should it come after all, is judged afresh (no kline held: it waits for one).
    p.candles([btc], T + 11 * MINUTE);
    expect(p.take().verifications).toEqual([]);
  });
});
