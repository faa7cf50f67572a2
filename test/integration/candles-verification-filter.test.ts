import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { quoteIdent, SELECT_CANDLES_BY_VERIFICATION } from '../../internal/sink/sql.js';
import { iso } from '../../internal/sink/sql-rows.js';
import type { Store } from '../../internal/sink/store.js';
import { SELECT_MISMATCHES_NEWEST } from '../../internal/sink/verification-sql.js';
import { candle } from '../contracts/store-contract.js';
import { endpoint, freshName } from '../harness/env.js';
import { mismatchOf, seedVerification } from '../harness/verification-seed.js';

/**
 * `GET /api/v1/candles?verification=...` on the real PostgreSQL: the Store's filter by status, and
 * migration 10's partial index taken by the mismatch reads over a month of minutes of several
 * markets with a handful of mismatches (the plan as PostgreSQL chooses it, nothing forced).
 */
const MIN = 60_000;
const START = Date.UTC(2024, 2, 1);
const MINUTES = 40_000;
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];

describe('candles by verification status on PostgreSQL', () => {
  const schema = freshName('it_verif_filter').replaceAll('-', '_');
  let store: Store;
  let db: pg.Client;
  const mismatchAt = [5, 17_000, 39_998].map((i) => START + i * MIN);

  beforeAll(async () => {
    store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema, poolSize: 1 });
    await store.migrate();
    // Through the store first: it creates the month's partition.
    await store.commit({
      topic: 't',
      partition: 0,
      epoch: 1,
      nextOffset: 1n,
      state: new Uint8Array(),
      candles: [candle({ openTime: START })],
      alerts: [],
    });
    db = new pg.Client({ connectionString: endpoint('DATABASE_URL') });
    await db.connect();
    await db.query(`SET search_path TO ${quoteIdent(schema)}`);
    // A month of 1m candles for each market, every one judged `verified`, as a live worker leaves them.
    await db.query(
      `INSERT INTO candles (exchange, symbol, "interval", open_time, close_time, market, open, high, low, close,
         volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume, vwap, first_trade_id,
         last_trade_id, revision, verification, verified_revision, verification_detail)
       SELECT 'binance', s, '1m', t, t + interval '59.999 seconds', 'X-USDT', 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, '1', '1',
         0, 'verified', 0, '{"status":"verified","revision":0,"checkedAt":0}'::jsonb
       FROM unnest($1::text[]) AS s,
         generate_series($2::timestamptz, $3::timestamptz, interval '1 minute') AS t
       ON CONFLICT DO NOTHING`,
      [SYMBOLS, iso(START), iso(START + (MINUTES - 1) * MIN)],
    );
    const sql = (text: string, params: unknown[]) => db.query(text, params);
    for (const [i, at] of mismatchAt.entries()) {
      await seedVerification(
        sql,
        { exchange: 'binance', symbol: 'ETHUSDT', interval: '1m', openTime: at },
        mismatchOf(0, i),
      );
    }
    // Never judged: pending.
    await db.query(
      `UPDATE candles SET verification = NULL, verified_revision = NULL, verification_detail = NULL
        WHERE symbol = 'ETHUSDT' AND open_time = $1::timestamptz`,
      [iso(START + 100 * MIN)],
    );
    await db.query('ANALYZE candles');
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await db?.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await db?.end();
  });

  it('returns the candles of one status, newest or by range', async () => {
    const q = { exchange: 'binance', symbol: 'ETHUSDT', interval: '1m' as const };
    const mismatches = await store.candles({ ...q, verification: 'mismatch' });
    expect(mismatches.map((c) => c.openTime)).toEqual(mismatchAt);
    expect(mismatches[0]?.verification).toEqual(mismatchOf(0, 0));
    const ranged = await store.candles({
      ...q,
      verification: 'mismatch',
      from: START + 10 * MIN,
      to: START + 20_000 * MIN,
    });
    expect(ranged.map((c) => c.openTime)).toEqual([mismatchAt[1]]);
    expect((await store.candles({ ...q, verification: 'pending' })).map((c) => c.openTime)).toEqual([
      START + 100 * MIN,
    ]);
    expect(await store.candles({ ...q, symbol: 'BTCUSDT', verification: 'mismatch' })).toEqual([]);
    expect(await store.candles({ ...q, verification: 'verified', limit: 3 })).toHaveLength(3);
  });

  /** The names of the indexes a plan scans (each partition has its own copy of a partitioned index). */
  async function indexesOf(sql: string, params: unknown[]): Promise<string[]> {
    const { rows } = await db.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    const names: string[] = [];
    const walk = (node: Record<string, unknown>) => {
      if (typeof node['Index Name'] === 'string') names.push(node['Index Name']);
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk((rows[0]['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0]?.Plan ?? {});
    return names;
  }

  /** The partition copies of the partitioned index `parent`. */
  async function copiesOf(parent: string): Promise<string[]> {
    const { rows } = await db.query(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace WHERE p.relname = $1 AND n.nspname = $2`,
      [parent, schema],
    );
    return rows.map((r) => r.relname as string);
  }

  it("reads one market's mismatches and every market's newest by migration 10's partial index", async () => {
    const byMarket = await copiesOf('candles_mismatch');
    expect(byMarket.length).toBeGreaterThan(0);
    const { latest, range } = SELECT_CANDLES_BY_VERIFICATION.mismatch;
    expect(await indexesOf(latest, ['binance', 'ETHUSDT', '1m', 1000])).toEqual(byMarket);
    expect(await indexesOf(range, ['binance', 'ETHUSDT', '1m', iso(START), iso(START + MINUTES * MIN), 1000])).toEqual(
      byMarket,
    );
    // /api/v1/verification's list of the newest mismatches of every market.
    expect(
      await indexesOf(SELECT_MISMATCHES_NEWEST, [null, null, null, null, null, null, null, null, null, 50]),
    ).toEqual(byMarket);
  });
});
