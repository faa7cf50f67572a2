import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { quoteIdent } from '../../internal/sink/sql.js';
import type { Store } from '../../internal/sink/store.js';
import { decimal18 } from '../harness/archive.js';
import { endpoint, freshName } from '../harness/env.js';
import { commitOnce, runActor } from '../support/actor-run.js';
import { loadRealTrades } from '../support/real-trades.js';

// `tickmesh export` of what the actor made of the real BTCUSDT trades, committed by the Store to
// a fresh schema: each data set as Parquet and as CSV, read back by DuckDB and compared with
// PostgreSQL's own rows, row for row, decimals to the last digit.

type Kind = 'decimal' | 'time' | 'double' | 'text' | 'int';
const SHAPES: Record<string, Record<string, Kind>> = {
  candles: {
    exchange: 'text',
    symbol: 'text',
    interval: 'text',
    open_time: 'time',
    close_time: 'time',
    market: 'text',
    open: 'decimal',
    high: 'decimal',
    low: 'decimal',
    close: 'decimal',
    volume: 'decimal',
    quote_volume: 'decimal',
    trades: 'int',
    taker_buy_volume: 'decimal',
    taker_buy_quote_volume: 'decimal',
    vwap: 'decimal',
    first_trade_id: 'text',
    last_trade_id: 'text',
    revision: 'int',
  },
  indicators: {
    exchange: 'text',
    symbol: 'text',
    interval: 'text',
    open_time: 'time',
    market: 'text',
    vwap: 'double',
    volatility: 'double',
    imbalance: 'double',
    sma: 'text',
    ema: 'text',
  },
  alerts: {
    id: 'text',
    exchange: 'text',
    symbol: 'text',
    market: 'text',
    kind: 'text',
    severity: 'text',
    time: 'time',
    interval: 'text',
    message: 'text',
    evidence: 'text',
  },
};

/** A column as one string both sides agree on: decimals at 18 places, times as epoch ms, doubles as JS prints them. */
function pgSelect(kind: Kind, name: string): string {
  const col = name === 'interval' ? '"interval"' : name;
  if (kind === 'time') return `(extract(epoch from ${col}) * 1000)::bigint::text`;
  return `${col}::text`;
}
function duckSelect(kind: Kind, name: string, csv: boolean): string {
  const col = `"${name}"`;
  if (kind === 'time' && !csv) return `epoch_ms(${col})::VARCHAR`;
  return `${col}::VARCHAR`;
}
function normalize(kind: Kind, v: string | null): string | null {
  if (v === null) return null;
  if (kind === 'decimal') return decimal18(v);
  if (kind === 'double') return String(Number(v));
  return v;
}

function runExport(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cmd/tickmesh/main.ts', 'export', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr, stdout })));
}

describe('tickmesh export against the real PostgreSQL', () => {
  const schema = freshName('it_export').replaceAll('-', '_');
  let store: Store;
  let db: pg.Client;
  let duck: Awaited<ReturnType<DuckDBInstance['connect']>>;
  let work: string;
  let exchange: string;
  let symbol: string;
  let from: number;
  let to: number;
  const counts: Record<string, number> = {};

  beforeAll(async () => {
    const trades = await loadRealTrades();
    const first = trades[0];
    if (!first) throw new Error('no trades');
    exchange = first.exchange;
    symbol = first.symbol;
    const out = runActor(trades, ['1m', '5m']);
    store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema, poolSize: 1 });
    await store.migrate();
    await commitOnce(store, schema, {
      candles: [...out.closed],
      alerts: [...out.alerts],
      indicators: [...out.indicators],
    });
    counts.candles = out.closed.filter((c) => c.interval === '1m').length;
    counts.indicators = out.indicators.filter((c) => c.interval === '1m').length;
    counts.alerts = out.alerts.length;
    from = Math.min(...out.closed.map((c) => c.openTime));
    to = Math.max(...out.closed.map((c) => c.closeTime), ...out.alerts.map((a) => a.time)) + 1;
    db = new pg.Client({ connectionString: endpoint('DATABASE_URL'), options: `-c search_path=${quoteIdent(schema)}` });
    await db.connect();
    duck = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
    work = await mkdtemp(join(tmpdir(), 'tickmesh-export-test-'));
  }, 60_000);

  afterAll(async () => {
    await db?.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await db?.end();
    await store?.close();
    duck?.closeSync();
    await rm(work, { recursive: true, force: true });
  });

  async function postgresRows(dataset: string): Promise<(string | null)[][]> {
    const shape = Object.entries(SHAPES[dataset] ?? {});
    const time = dataset === 'alerts' ? 'time' : 'open_time';
    const filter = dataset === 'alerts' ? '' : ` AND "interval" = '1m'`;
    const res = await db.query({
      text: `SELECT ${shape.map(([n, k]) => pgSelect(k, n)).join(', ')} FROM ${dataset}
             WHERE exchange = $1 AND symbol = $2 ${filter} ORDER BY ${time}${dataset === 'alerts' ? ', id' : ''}`,
      values: [exchange, symbol],
      rowMode: 'array',
    });
    return (res.rows as (string | null)[][]).map((r) => r.map((v, i) => normalize(shape[i]?.[1] as Kind, v)));
  }

  async function duckRows(dataset: string, reader: string, csv = false): Promise<(string | null)[][]> {
    const shape = Object.entries(SHAPES[dataset] ?? {});
    const r = await duck.runAndReadAll(
      `SELECT ${shape.map(([n, k]) => duckSelect(k, n, csv)).join(', ')} FROM ${reader}`,
    );
    return r.getRows().map((row) => row.map((v, i) => normalize(shape[i]?.[1] as Kind, v === null ? null : String(v))));
  }

  for (const dataset of ['candles', 'indicators', 'alerts']) {
    it(`exports ${dataset} to Parquet and CSV that DuckDB reads back equal to PostgreSQL`, async () => {
      const expected = await postgresRows(dataset);
      expect(expected.length).toBe(counts[dataset]);
      expect(expected.length).toBeGreaterThan(dataset === 'alerts' ? 0 : 100);
      const range = ['--exchange', exchange, '--symbol', symbol, '--from', String(from), '--to', String(to)];
      const interval = dataset === 'alerts' ? [] : ['--interval', '1m'];
      const common = [dataset, ...range, ...interval, '--schema', schema, '--batch-rows', '50'];

      const parquet = join(work, `${dataset}.parquet`);
      const p = await runExport([...common, '--output', parquet]);
      expect(p.code, p.stderr).toBe(0);
      expect(JSON.parse(p.stderr.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ rows: expected.length });
      // Piped stderr: no progress bar, only the summary line.
      expect(p.stderr).not.toContain('\r');
      expect(await duckRows(dataset, `read_parquet('${parquet}')`)).toEqual(expected);
      if (dataset === 'candles') {
        const types = await duck.runAndReadAll(
          `SELECT typeof(open), typeof(vwap) FROM read_parquet('${parquet}') LIMIT 1`,
        );
        expect(types.getRows()).toEqual([['DECIMAL(38,18)', 'DECIMAL(38,18)']]);
      }

      const csv = join(work, `${dataset}.csv`);
      const c = await runExport([...common, '--output', csv]);
      expect(c.code, c.stderr).toBe(0);
      const fromCsv = await duckRows(
        dataset,
        `read_csv('${csv}', header = true, all_varchar = true, allow_quoted_nulls = false)`,
        true,
      );
      // CSV holds the text PostgreSQL prints; times as 'YYYY-MM-DD HH:MM:SS.mmm' UTC.
      const csvExpected = expected.map((row) =>
        row.map((v, i) =>
          Object.values(SHAPES[dataset] ?? {})[i] === 'time' && v !== null
            ? new Date(Number(v)).toISOString().replace('T', ' ').replace('Z', '')
            : v,
        ),
      );
      expect(fromCsv).toEqual(csvExpected);

      const piped = await runExport([...common, '--format', 'csv']);
      expect(piped.code, piped.stderr).toBe(0);
      expect(piped.stdout.split('\n').filter((l) => l !== '')).toHaveLength(expected.length + 1);
    }, 120_000);
  }
});
