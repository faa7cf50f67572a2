import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../test/harness/shared-data.js';
import { loadRealTrades } from '../../test/support/real-trades.js';
import { actorConfig } from '../actor/config.js';
import { MarketActor } from '../actor/market-actor.js';
import { createActorOutput } from '../actor/output.js';
import type { Candle } from '../market/candle.js';
import type { Trade } from '../market/trade.js';
import { VENUE_CONVENTIONS } from './conventions.js';
import { type KlinePush, klinePushParser } from './kline-push.js';
import { Reconciler, type Reconciliation } from './reconciler.js';

const DIR = resolve(sharedDataDir(), 'binance-um-btcusdt-2020-02-22');
const BINANCE = VENUE_CONVENTIONS.binance as NonNullable<(typeof VENUE_CONVENTIONS)['binance']>;
const MINUTE = 60_000;

function candles(list: readonly Trade[]): Candle[] {
  const actor = new MarketActor(
    { exchange: 'binance-futures', symbol: 'BTCUSDT', market: 'BTC-USDT' },
    actorConfig({ intervals: ['1m'], partialUpdates: false }),
  );
  const out = createActorOutput();
  for (const t of list) actor.onTrade(t, 0, out);
  actor.flush(0, out);
  return out.closed.filter((c) => c.interval === '1m');
}

/** The exchange's klines of the day as Binance pushes them on `btcusdt@kline_1m`, final. */
function pushes(): KlinePush[] {
  const parse = klinePushParser('binance-futures');
  const rows = readFileSync(resolve(DIR, 'klines-1m.csv'), 'utf8').trim().split('\n');
  return rows.map((line) => {
    const [t, o, h, l, c, v, T, q, n, V, Q] = line.split(',');
    const frame = JSON.stringify({
      stream: 'btcusdt@kline_1m',
      data: {
        e: 'kline',
        E: Number(T) + 1,
        s: 'BTCUSDT',
        k: { t: Number(t), T: Number(T), s: 'BTCUSDT', i: '1m', o, h, l, c, v, n: Number(n), x: true, q, V, Q },
      },
    });
    const r = parse?.(frame);
    if (r === undefined || 'reject' in r) throw new Error(`kline ${t} not read`);
    return r.pushes[0] as KlinePush;
  });
}

/** Both sides through one reconciler as they would arrive live: each candle, then its kline. */
function reconcile(ours: readonly Candle[], theirs: readonly KlinePush[]): Map<number, Reconciliation> {
  const r = new Reconciler({ convention: BINANCE, settleMs: 10_000, waitMs: 30_000, maxWindows: 500 });
  const byOpen = new Map(theirs.map((p) => [p.kline.openTime, p]));
  const last = new Map<number, Reconciliation>();
  const keep = (rs: Reconciliation[]) => {
    for (const x of rs) last.set(x.openTime, x);
  };
  for (const c of ours) {
    const end = c.closeTime + 1;
    keep(r.candle(c, end + 1_000));
    const p = byOpen.get(c.openTime);
    if (p) keep(r.push(p, end + 2_000));
  }
  return last;
}

describe('the live reconciler on the real Binance USD-M BTCUSDT trades and klines of 2020-02-22', () => {
  it('verifies every full minute and names what differs in the two partial ones', async () => {
    const verdicts = reconcile(candles(await loadRealTrades()), pushes());
    const counts = { verified: 0, mismatch: 0, unverifiable: 0 };
    for (const v of verdicts.values()) counts[v.verdict.status]++;
    expect(counts).toEqual({ verified: 124, mismatch: 2, unverifiable: 0 });
    // The file starts after the first minute's first trade (SOURCE.md): 90 trades against 91.
    const first = verdicts.get(1582329600000)?.verdict;
    expect(first?.status).toBe('mismatch');
    if (first?.status === 'mismatch') {
      expect(first.differences).toContainEqual({ field: 'trades', ours: '90', theirs: '91' });
    }
  });

  it('makes a minute with one trade removed a mismatch naming its fields, and only that minute', async () => {
    const all = await loadRealTrades();
    const victim = all[5000] as Trade;
    const minute = victim.eventTime - (victim.eventTime % MINUTE);
    const verdicts = reconcile(candles(all.filter((t) => t !== victim)), pushes());
    const v = verdicts.get(minute)?.verdict;
    expect(v?.status).toBe('mismatch');
    if (v?.status === 'mismatch') {
      const fields = v.differences.map((d) => d.field);
      expect(fields).toContain('trades');
      expect(fields).toContain('volume');
      expect(fields).toContain('quoteVolume');
    }
    const mismatches = [...verdicts.values()].filter((x) => x.verdict.status === 'mismatch').map((x) => x.openTime);
    expect(mismatches.sort()).toEqual([1582329600000, minute, 1582337100000].sort());
  });
});

function candle(openTime: number, fields: Partial<Candle> = {}): Candle {
  return {
    exchange: 'bybit',
    symbol: 'BTCUSDT',
    market: 'BTC-USDT',
    interval: '1m',
    openTime,
    closeTime: openTime + MINUTE - 1,
    open: '10',
    high: '12',
    low: '9',
    close: '11',
    volume: '2',
    quoteVolume: '21',
    trades: 2,
    takerBuyVolume: '1',
    takerBuyQuoteVolume: '10',
    vwap: '10.5',
    firstTradeId: '1',
    lastTradeId: '2',
    revision: 0,
    closed: true,
    ...fields,
  };
}

function push(openTime: number, final: boolean | undefined, fields: Partial<KlinePush['kline']> = {}): KlinePush {
  return {
    market: 'BTC-USDT',
    interval: '1m',
    final,
    kline: { openTime, open: '10', high: '12', low: '9', close: '11', volume: '2', ...fields },
  };
}

describe('Reconciler', () => {
  const T = 1_700_000_040_000 - (1_700_000_040_000 % MINUTE);
  const binance = () => new Reconciler({ convention: BINANCE, settleMs: 5_000, waitMs: 20_000, maxWindows: 4 });

  it('waits for the venue, then says unverifiable, and judges again when a late final kline comes', () => {
    const r = binance();
    const c = candle(T);
    expect(r.candle(c, T + MINUTE)).toEqual([]);
    expect(r.tick(T + MINUTE + 19_999)).toEqual([]);
    expect(r.tick(T + MINUTE + 20_000).map((x) => x.verdict.status)).toEqual(['unverifiable']);
    expect(r.tick(T + MINUTE + 30_000)).toEqual([]);
    expect(r.push(push(T, true), T + MINUTE + 40_000).map((x) => x.verdict.status)).toEqual(['verified']);
  });

  it('ignores moving pushes until the final one, and a moving push after the final one', () => {
    const r = binance();
    r.candle(candle(T), T + MINUTE);
    expect(r.push(push(T, false, { close: '10.5' }), T + MINUTE)).toEqual([]);
    expect(r.push(push(T, true), T + MINUTE + 1).map((x) => x.verdict.status)).toEqual(['verified']);
    expect(r.push(push(T, false, { close: '10.5' }), T + MINUTE + 2)).toEqual([]);
  });

  it('judges a revision again: a late trade that makes the candle agree turns a mismatch into verified', () => {
    const r = binance();
    r.push(push(T, true, { volume: '3' }), T + MINUTE);
    const first = r.candle(candle(T), T + MINUTE + 1);
    expect(first.map((x) => x.verdict.status)).toEqual(['mismatch']);
    expect(r.candle(candle(T, { volume: '3', revision: 1 }), T + MINUTE + 2)).toMatchObject([
      { revision: 1, verdict: { status: 'verified' } },
    ]);
    // An older revision arriving late changes nothing.
    expect(r.candle(candle(T), T + MINUTE + 3)).toEqual([]);
  });

  it('takes a venue without a final flag as final once its window has settled', () => {
    const r = new Reconciler({
      convention: VENUE_CONVENTIONS.coinbase as typeof BINANCE,
      settleMs: 5_000,
      waitMs: 60_000,
      maxWindows: 4,
    });
    r.candle(candle(T, { exchange: 'coinbase' }), T + MINUTE);
    expect(r.push(push(T, undefined), T + MINUTE + 1_000)).toEqual([]);
    expect(r.tick(T + MINUTE + 4_999)).toEqual([]);
    expect(r.tick(T + MINUTE + 5_000).map((x) => x.verdict.status)).toEqual(['verified']);
  });

  it("compares Bybit's windows as Bybit opens them, at the previous candle's close", () => {
    const r = new Reconciler({
      convention: VENUE_CONVENTIONS.bybit as typeof BINANCE,
      settleMs: 5_000,
      waitMs: 60_000,
      maxWindows: 4,
    });
    r.candle(candle(T), T + MINUTE);
    // Bybit's next window opens at 11 (the previous close) and its low includes that open.
    r.push(push(T + MINUTE, true, { open: '11', high: '12', low: '9', close: '11' }), T + 2 * MINUTE);
    const next = r.candle(candle(T + MINUTE, { open: '10.5', low: '9' }), T + 2 * MINUTE + 1);
    expect(next.map((x) => x.verdict.status)).toEqual(['verified']);
  });

  it('holds at most maxWindows windows per market and interval, and counts pushes too old to judge', () => {
    const r = binance();
    for (let i = 0; i < 10; i++) r.candle(candle(T + i * MINUTE), T + (i + 1) * MINUTE);
    expect(r.push(push(T, true), T + 11 * MINUTE)).toEqual([]);
    expect(r.dropped).toBe(1);
    expect(r.push(push(T + 9 * MINUTE, true), T + 11 * MINUTE).map((x) => x.verdict.status)).toEqual(['verified']);
  });
});
