import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Candle } from '../../internal/market/candle.js';
import type { Trade } from '../../internal/market/trade.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { quoteIdent } from '../../internal/sink/sql.js';
import type { Store } from '../../internal/sink/store.js';
import { endpoint, freshName } from '../harness/env.js';
import { commitOnce, runActor } from '../support/actor-run.js';
import { loadRealTrades } from '../support/real-trades.js';

// The SQL models (migration 7) over the candles the actor made of the real BTCUSDT trades, on
// two venues: the trades as they are, and the same trades 0.5 dearer on a second venue. Each
// model is checked against a computation straight from the trades, not from the candles.

const SCALE = 8n;
const ONE = 10n ** SCALE;
const toUnits = (s: string): bigint => {
  const [i = '0', f = ''] = s.split('.');
  return BigInt(i) * ONE + BigInt(f.padEnd(Number(SCALE), '0').slice(0, Number(SCALE)) || '0');
};
const fromUnits = (u: bigint): string => `${u / ONE}.${(u % ONE).toString().padStart(Number(SCALE), '0')}`;
/** A numeric as PostgreSQL prints it, compared at 8 places. */
const at8 = (s: string): string => fromUnits(toUnits(s));

function candlesOf(trades: readonly Trade[]): Candle[] {
  return [...runActor(trades, ['1m']).closed];
}

interface Summary {
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  trades: number;
}

/** OHLCV of trades grouped by `key` (their order is the file's: by time, then id). */
function summarize(trades: readonly Trade[], key: (t: Trade) => string): Map<string, Summary> {
  const out = new Map<
    string,
    { open: bigint; high: bigint; low: bigint; close: bigint; volume: bigint; trades: number }
  >();
  for (const t of trades) {
    const p = toUnits(t.price);
    const s = out.get(key(t));
    if (!s) out.set(key(t), { open: p, high: p, low: p, close: p, volume: toUnits(t.size), trades: t.tradeCount ?? 1 });
    else {
      s.high = p > s.high ? p : s.high;
      s.low = p < s.low ? p : s.low;
      s.close = p;
      s.volume += toUnits(t.size);
      s.trades += t.tradeCount ?? 1;
    }
  }
  return new Map(
    [...out].map(([k, s]) => [
      k,
      {
        open: fromUnits(s.open),
        high: fromUnits(s.high),
        low: fromUnits(s.low),
        close: fromUnits(s.close),
        volume: fromUnits(s.volume),
        trades: s.trades,
      },
    ]),
  );
}

function refresh(schema: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cmd/tickmesh/main.ts', 'models', 'refresh', '--schema', schema],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('the SQL models on the real trades', () => {
  const schema = freshName('it_models').replaceAll('-', '_');
  let store: Store;
  let db: pg.Client;
  let a: Trade[];
  let b: Trade[];
  const rows = async (sql: string) => (await db.query(sql)).rows as Record<string, string>[];

  beforeAll(async () => {
    a = await loadRealTrades();
    b = a.map((t) => ({ ...t, exchange: 'second-venue', price: fromUnits(toUnits(t.price) + ONE / 2n) }));
    store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema, poolSize: 1 });
    await store.migrate();
    await commitOnce(store, schema, { candles: [...candlesOf(a), ...candlesOf(b)], alerts: [] });
    db = new pg.Client({ connectionString: endpoint('DATABASE_URL'), options: `-c search_path=${quoteIdent(schema)}` });
    await db.connect();
    // Twice: the first refresh fills the empty views, the second runs CONCURRENTLY.
    for (let i = 0; i < 2; i++) {
      const r = await refresh(schema);
      expect(r.code, r.output).toBe(0);
      expect(r.output).toContain(i === 0 ? '"concurrently":false' : '"concurrently":true');
    }
  }, 120_000);

  afterAll(async () => {
    await db?.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await db?.end();
    await store?.close();
  });

  const hourOf = (t: Trade) => new Date(Math.floor(t.eventTime / 3_600_000) * 3_600_000).toISOString();
  const dayOf = (t: Trade) => new Date(t.eventTime).toISOString().slice(0, 10);

  it('summarizes each market per UTC hour and per day exactly as its trades add up', async () => {
    for (const [view, unit, key] of [
      ['market_hourly', 'hour', hourOf],
      ['market_daily', 'day', dayOf],
    ] as const) {
      for (const trades of [a, b]) {
        const first = trades[0] as Trade;
        const got = await rows(
          `SELECT ${unit} AS at, open::text, high::text, low::text, close::text, volume::text, trades::text
             FROM ${view} WHERE exchange = '${first.exchange}' AND symbol = '${first.symbol}' ORDER BY ${unit}`,
        );
        const want = summarize(trades, key);
        expect(got.length, view).toBe(want.size);
        expect(got.length).toBeGreaterThan(0);
        for (const r of got) {
          const k =
            unit === 'hour'
              ? new Date(r.at as string).toISOString()
              : new Date(r.at as string).toISOString().slice(0, 10);
          const w = want.get(k);
          expect(w, `${view} ${k}`).toBeDefined();
          expect([
            at8(r.open ?? ''),
            at8(r.high ?? ''),
            at8(r.low ?? ''),
            at8(r.close ?? ''),
            at8(r.volume ?? ''),
            Number(r.trades),
          ]).toEqual([w?.open, w?.high, w?.low, w?.close, w?.volume, w?.trades]);
        }
      }
    }
  });

  it('ranks the day movers by the size of their move', async () => {
    const got = await rows('SELECT exchange, change_pct::text, rank::text FROM top_movers ORDER BY rank');
    const move = (ts: Trade[]) => {
      const open = Number((ts[0] as Trade).price);
      return ((Number((ts.at(-1) as Trade).price) - open) / open) * 100;
    };
    const want = [
      { exchange: 'binance-futures', change: move(a) },
      { exchange: 'second-venue', change: move(b) },
    ].sort((x, y) => Math.abs(y.change) - Math.abs(x.change));
    expect(got.map((r) => [r.exchange, Number(r.rank)])).toEqual(want.map((w, i) => [w.exchange, i + 1]));
    for (const [i, r] of got.entries()) expect(Number(r.change_pct)).toBeCloseTo(want[i]?.change ?? 0, 5);
  });

  it('gives the realized volatility of the day from the 1m log returns', async () => {
    // Each minute's last trade price, carried over minutes without trades, from the first minute to the last.
    const last = new Map<number, number>();
    for (const t of a) last.set(Math.floor(t.eventTime / 60_000), Number(t.price));
    const minutes = [...last.keys()];
    const closes: number[] = [];
    for (let m = Math.min(...minutes), p = 0; m <= Math.max(...minutes); m++) {
      p = last.get(m) ?? p;
      closes.push(p);
    }
    const returns = closes.slice(1).map((c, i) => Math.log(c / (closes[i] as number)));
    const mean = returns.reduce((x, y) => x + y, 0) / returns.length;
    const sd = Math.sqrt(returns.reduce((x, y) => x + (y - mean) ** 2, 0) / (returns.length - 1));
    const [got] = await rows(
      "SELECT returns::text, sd_1m, daily, annualized FROM realized_volatility_daily WHERE exchange = 'binance-futures'",
    );
    expect(Number(got?.returns)).toBe(returns.length);
    expect(Number(got?.sd_1m)).toBeCloseTo(sd, 12);
    expect(Number(got?.daily)).toBeCloseTo(sd * Math.sqrt(1440), 10);
    expect(Number(got?.annualized)).toBeCloseTo(sd * Math.sqrt(525_600), 9);
  });

  it('finds the cross-venue spread of every minute both venues traded', async () => {
    const got = await rows(
      'SELECT market, venues::text, spread::text, low_venue, high_venue FROM cross_venue_spreads ORDER BY open_time',
    );
    const traded = new Set(a.map((t) => Math.floor(t.eventTime / 60_000)));
    expect(got).toHaveLength(traded.size);
    for (const r of got) {
      expect([r.market, r.venues, at8(r.spread ?? ''), r.low_venue, r.high_venue]).toEqual([
        'BTC-USDT',
        '2',
        '0.50000000',
        'binance-futures',
        'second-venue',
      ]);
    }
  });
});
