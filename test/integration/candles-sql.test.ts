import { resolve } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorConfig } from '../../internal/actor/config.js';
import { compareDecimal, decimalToBig } from '../../internal/actor/decimal.js';
import { MarketActor } from '../../internal/actor/market-actor.js';
import { createActorOutput } from '../../internal/actor/output.js';
import { readTradeFile } from '../../internal/ingest/files/read-trade-file.js';
import type { Candle } from '../../internal/market/candle.js';
import { type Interval, intervalMs } from '../../internal/market/interval.js';
import type { Trade } from '../../internal/market/trade.js';
import { endpoint, freshName } from '../harness/env.js';
import { sharedDataDir } from '../harness/shared-data.js';

/**
 * The actor's candles against a reference computed by PostgreSQL itself: the trades go into a
 * table (the primary key drops repeated trade ids), one GROUP BY per interval builds the candles
 * with NUMERIC arithmetic, and generate_series fills the windows without trades with the
 * previous close. Every field must agree exactly.
 */
const INTERVALS: Interval[] = ['1m', '3m', '5m', '15m', '1h', '1d', '1w'];
const WEEK_ORIGIN_MS = 4 * 86_400_000;
const DATA = sharedDataDir();

interface SqlCandle {
  open_time: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  quote_volume: string;
  trades: string;
  taker_buy_volume: string;
  taker_buy_quote_volume: string;
  vwap_e12: string;
  first_trade_id: string | null;
  last_trade_id: string | null;
}

describe('candles against a SQL reference on the real PostgreSQL', () => {
  let pool: pg.Pool;
  const schema = freshName('it_candles').replaceAll('-', '_');

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: endpoint('DATABASE_URL'), max: 2 });
    await pool.query(`CREATE SCHEMA ${schema}`);
  });

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  async function load(table: string, trades: readonly Trade[]): Promise<void> {
    await pool.query(
      `CREATE TABLE ${schema}.${table} (
         trade_id bigint PRIMARY KEY, price numeric NOT NULL, size numeric NOT NULL,
         buy boolean NOT NULL, event_time bigint NOT NULL)`,
    );
    for (let i = 0; i < trades.length; i += 2_000) {
      const chunk = trades.slice(i, i + 2_000);
      await pool.query(
        `INSERT INTO ${schema}.${table}
         SELECT * FROM unnest($1::bigint[], $2::numeric[], $3::numeric[], $4::boolean[], $5::bigint[])
         ON CONFLICT (trade_id) DO NOTHING`,
        [
          chunk.map((t) => t.tradeId),
          chunk.map((t) => t.price),
          chunk.map((t) => t.size),
          chunk.map((t) => t.side === 'buy'),
          chunk.map((t) => t.eventTime),
        ],
      );
    }
  }

  async function reference(table: string, interval: Interval): Promise<SqlCandle[]> {
    const len = intervalMs(interval);
    const origin = interval === '1w' ? WEEK_ORIGIN_MS : 0;
    const t = `${schema}.${table}`;
    const { rows } = await pool.query<SqlCandle>(
      `WITH w AS (
         SELECT floor((event_time - $2::numeric) / $1::numeric) * $1::numeric + $2::numeric AS ws, * FROM ${t}
       ), g AS (
         SELECT ws,
           (array_agg(price ORDER BY event_time, trade_id))[1] AS open,
           max(price) AS high, min(price) AS low,
           (array_agg(price ORDER BY event_time DESC, trade_id DESC))[1] AS close,
           sum(size) AS volume, sum(price * size) AS quote_volume, count(*) AS trades,
           coalesce(sum(size) FILTER (WHERE buy), 0) AS taker_buy_volume,
           coalesce(sum(price * size) FILTER (WHERE buy), 0) AS taker_buy_quote_volume,
           (array_agg(trade_id ORDER BY event_time, trade_id))[1] AS first_trade_id,
           (array_agg(trade_id ORDER BY event_time DESC, trade_id DESC))[1] AS last_trade_id
         FROM w GROUP BY ws
       ), s AS (
         SELECT generate_series(min(ws), max(ws), $1::numeric) AS ws FROM g
       )
       SELECT s.ws::text AS open_time,
         coalesce(g.open, p.close)::text AS open, coalesce(g.high, p.close)::text AS high,
         coalesce(g.low, p.close)::text AS low, coalesce(g.close, p.close)::text AS close,
         coalesce(g.volume, 0)::text AS volume, coalesce(g.quote_volume, 0)::text AS quote_volume,
         coalesce(g.trades, 0)::text AS trades,
         coalesce(g.taker_buy_volume, 0)::text AS taker_buy_volume,
         coalesce(g.taker_buy_quote_volume, 0)::text AS taker_buy_quote_volume,
         -- VWAP rounded half up to 12 decimals, as an exact integer: div() truncates exactly.
         CASE WHEN g.volume > 0 THEN div(2 * g.quote_volume * 1e12 + g.volume, 2 * g.volume)
              ELSE div(p.close * 1e12, 1) END::text AS vwap_e12,
         g.first_trade_id::text AS first_trade_id, g.last_trade_id::text AS last_trade_id
       FROM s LEFT JOIN g ON g.ws = s.ws
       LEFT JOIN LATERAL (
         SELECT price AS close FROM ${t} WHERE event_time < s.ws ORDER BY event_time DESC, trade_id DESC LIMIT 1
       ) p ON g.ws IS NULL
       ORDER BY s.ws`,
      [len, origin],
    );
    return rows;
  }

  /** What the generated streams exercised, so the test cannot pass by testing nothing. */
  const seen = { empty: 0, duplicates: 0, outOfOrder: 0, wide: 0 };

  function actorCandles(arrival: readonly Trade[]): Candle[] {
    const config = actorConfig({ intervals: INTERVALS, partialUpdates: false });
    const first = arrival[0] as Trade;
    const actor = new MarketActor({ exchange: first.exchange, symbol: first.symbol, market: first.market }, config);
    const out = createActorOutput();
    for (const t of arrival) actor.onTrade(t, 0, out);
    actor.flush(0, out);
    seen.duplicates += actor.counters.duplicates;
    seen.empty += actor.counters.emptyCandles;
    seen.outOfOrder += arrival.filter((t, i) => i > 0 && t.eventTime < (arrival[i - 1] as Trade).eventTime).length;
    seen.wide += out.closed.filter((c) => (decimalToBig(c.quoteVolume, 13) ?? 0n) >= 2n ** 53n).length;
    expect(out.revised).toEqual([]);
    expect(out.rejected).toEqual([]);
    // Only repeats arrive past the lateness (their ids forgotten with their windows).
    const ids = arrival.map((t) => t.tradeId);
    for (const l of out.late) expect(ids.filter((id) => id === l.trade.tradeId).length).toBeGreaterThan(1);
    return out.closed;
  }

  async function compare(table: string, trades: readonly Trade[], arrival: readonly Trade[]): Promise<number> {
    await load(table, trades);
    const mine = actorCandles(arrival);
    let n = 0;
    for (const interval of INTERVALS) {
      const ref = await reference(table, interval);
      const got = mine.filter((c) => c.interval === interval);
      expect(
        got.map((c) => String(c.openTime)),
        interval,
      ).toEqual(ref.map((r) => r.open_time));
      got.forEach((c, i) => {
        const r = ref[i] as SqlCandle;
        const where = `${interval} ${c.openTime}`;
        for (const [a, b] of [
          [c.open, r.open],
          [c.high, r.high],
          [c.low, r.low],
          [c.close, r.close],
          [c.volume, r.volume],
          [c.quoteVolume, r.quote_volume],
          [c.takerBuyVolume, r.taker_buy_volume],
          [c.takerBuyQuoteVolume, r.taker_buy_quote_volume],
        ] as const) {
          expect(compareDecimal(a, b), `${where}: ${a} vs ${b}`).toBe(0);
        }
        expect(c.trades, where).toBe(Number(r.trades));
        expect(decimalToBig(c.vwap, 12), where).toBe(BigInt(r.vwap_e12));
        expect([c.firstTradeId, c.lastTradeId], where).toEqual([r.first_trade_id ?? '', r.last_trade_id ?? '']);
        n++;
      });
    }
    return n;
  }

  it('agrees on the real BTCUSDT trades, in every interval from 1m to 1w', async () => {
    const trades: Trade[] = [];
    for await (const item of readTradeFile({
      path: resolve(DATA, 'binance-um-btcusdt-2020-02-22/trades.csv'),
      format: 'tardis',
    })) {
      if (item.kind === 'trade') trades.push(item.trade);
    }
    expect(trades).toHaveLength(9_999);
    expect(await compare('btcusdt', trades, trades)).toBeGreaterThan(126);
  });

  it('agrees on generated streams: out of order, duplicated, gaps, any decimals, sums past 2^53', async () => {
    const base = Date.UTC(2024, 0, 3, 23);
    const streams = fc.sample(
      fc.array(
        fc.record({
          gap: fc.oneof(
            { weight: 8, arbitrary: fc.integer({ min: 0, max: 3_000 }) },
            fc.integer({ min: 0, max: 900_000 }),
          ),
          price: fc.integer({ min: 1, max: 9_000_000 }),
          pd: fc.integer({ min: 0, max: 5 }),
          size: fc.integer({ min: 1, max: 90_000_000 }),
          // Notionals up to ~8e11 quote: far past 2^53 once scaled, within the actor's per-trade cap.
          sd: fc.integer({ min: 3, max: 8 }),
          buy: fc.boolean(),
          jitter: fc.integer({ min: 0, max: 2_000 }),
          dup: fc.integer({ min: 0, max: 30 }),
        }),
        { minLength: 50, maxLength: 400 },
      ),
      { numRuns: 12, seed: 20240103 },
    );
    let n = 0;
    for (const [k, steps] of streams.entries()) {
      let time = base;
      const keyed = steps.map((s, i) => {
        time += s.gap;
        const digits = String(s.price).padStart(s.pd + 1, '0');
        const sizeDigits = String(s.size).padStart(s.sd + 1, '0');
        const trade: Trade = {
          exchange: 'binance',
          symbol: 'BTCUSDT',
          market: 'BTC-USDT',
          tradeId: String(1_000 + i),
          price: s.pd === 0 ? digits : `${digits.slice(0, -s.pd)}.${digits.slice(-s.pd)}`,
          size: s.sd === 0 ? sizeDigits : `${sizeDigits.slice(0, -s.sd)}.${sizeDigits.slice(-s.sd)}`,
          side: s.buy ? 'buy' : 'sell',
          eventTime: time,
          receiveTime: time,
        };
        return { trade, key: time + s.jitter, i, dup: s.dup };
      });
      const arrival = [...keyed].sort((a, b) => a.key - b.key || a.i - b.i).map((x) => x.trade);
      // Some trades arrive a second time a few positions later.
      for (const x of keyed)
        if (x.dup === 0) arrival.splice(Math.min(arrival.length, arrival.indexOf(x.trade) + 3), 0, x.trade);
      n += await compare(
        `gen${k}`,
        keyed.map((x) => x.trade),
        arrival,
      );
    }
    expect(n).toBeGreaterThan(1_000);
    expect(seen.duplicates).toBeGreaterThan(10);
    expect(seen.empty).toBeGreaterThan(100);
    expect(seen.outOfOrder).toBeGreaterThan(100);
    expect(seen.wide).toBeGreaterThan(100);
  });
});
