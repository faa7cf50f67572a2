import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshModels } from '../../internal/sink/postgres-models.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { quoteIdent } from '../../internal/sink/sql.js';
import type { Store } from '../../internal/sink/store.js';
import { createModelRefresher, type ModelRefresher } from '../../internal/worker/model-refresher.js';
import { endpoint, freshName } from '../harness/env.js';
import { freePort } from '../harness/private-servers.js';
import { spawnWorker } from '../harness/worker-process.js';
import { createTradeTopics, replayWorkerArgv } from '../harness/worker-tables.js';
import { commitOnce, runActor } from '../support/actor-run.js';
import { loadRealTrades } from '../support/real-trades.js';

// The workers' model schedule (cmd/tickmesh/worker.ts --models-refresh-every) on the real
// PostgreSQL: two refreshers, as two worker replicas run them, on one schema. PostgreSQL itself
// is watched for REFRESH statements of the two, so an overlap is seen whoever's clock says what.

/** Copies of the real market's 1m candles under other symbols: enough rows that a refresh takes a while. */
const COPIES = 60;

describe('the SQL models refreshed on a schedule by the workers', () => {
  const schema = freshName('it_models_sched').replaceAll('-', '_');
  const app = `${schema}-refresher`;
  let store: Store;
  let db: pg.Client;
  let symbol = '';
  const options = () => ({ connectionString: endpoint('DATABASE_URL'), schema, applicationName: app });
  const count = async (sql: string, params: unknown[] = []) => Number((await db.query(sql, params)).rows[0]?.n);

  beforeAll(async () => {
    const trades = await loadRealTrades();
    symbol = (trades[0] as (typeof trades)[number]).symbol;
    store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema, poolSize: 1 });
    await store.migrate();
    await commitOnce(store, schema, { candles: [...runActor(trades, ['1m']).closed], alerts: [] });
    db = new pg.Client({ connectionString: endpoint('DATABASE_URL'), options: `-c search_path=${quoteIdent(schema)}` });
    await db.connect();
    await db.query(
      `INSERT INTO candles SELECT exchange, symbol || '-' || g, "interval", open_time, close_time, market, open, high,
              low, close, volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume, vwap,
              first_trade_id, last_trade_id, revision
         FROM candles, generate_series(1, ${COPIES}) g WHERE "interval" = '1m'`,
    );
  }, 120_000);

  afterAll(async () => {
    await db?.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await db?.end();
    await store?.close();
  });

  function refresher(registry: Registry): ModelRefresher {
    return createModelRefresher({
      refresh: (signal) => refreshModels(options(), { ifBusy: 'skip', signal }),
      everyMs: 20,
      clock: Date.now,
      logger: pino({ level: 'silent' }),
      registry,
    });
  }

  const metric = async (registry: Registry, name: string, result?: string) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    return Number(m?.values.find((v) => result === undefined || v.labels.result === result)?.value ?? 0);
  };

  it('never refreshes from two workers at once, and one of them skips instead of queueing', async () => {
    const registries = [new Registry(), new Registry()];
    const refreshers = registries.map(refresher);
    const run = new AbortController();
    // Every REFRESH statement of the two refreshers PostgreSQL runs (or has waiting), sampled.
    let samples = 0;
    let most = 0;
    const watching = (async () => {
      const watcher = new pg.Client({ connectionString: endpoint('DATABASE_URL') });
      await watcher.connect();
      try {
        while (!run.signal.aborted) {
          const n = Number(
            (
              await watcher.query(
                `SELECT count(*) AS n FROM pg_stat_activity
                  WHERE application_name = $1 AND state = 'active' AND query ILIKE 'REFRESH MATERIALIZED VIEW%'`,
                [app],
              )
            ).rows[0]?.n,
          );
          samples += 1;
          most = Math.max(most, n);
        }
      } finally {
        await watcher.end();
      }
    })();
    for (const r of refreshers) r.start(run.signal);
    // Until both have refreshed a few times and skipped at least once (or have had 20 s to).
    const started = Date.now();
    const tally = async (result: string) =>
      Promise.all(registries.map((g) => metric(g, 'tickmesh_models_refresh_rounds_total', result)));
    for (;;) {
      const [refreshed, skipped] = [await tally('refreshed'), await tally('skipped')];
      const enough = refreshed.every((n) => n >= 3);
      if (enough && (skipped.every((n) => n >= 1) || Date.now() - started > 20_000)) break;
      if (Date.now() - started > 60_000) throw new Error(`refreshed ${refreshed}, skipped ${skipped} after 60 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    run.abort();
    await Promise.all(refreshers.map((r) => r.close()));
    await watching;
    expect(samples).toBeGreaterThan(20);
    // A REFRESH was seen running, and never two at once; each worker skipped rounds the other had.
    expect(most).toBe(1);
    expect((await tally('skipped')).every((n) => n >= 1)).toBe(true);
    expect(await tally('failed')).toEqual([0, 0]);
    for (const g of registries) {
      expect(await metric(g, 'tickmesh_models_refresh_last_success_timestamp_seconds')).toBeGreaterThan(
        Date.now() / 1000 - 120,
      );
      expect(await metric(g, 'tickmesh_models_refresh_duration_seconds')).toBeGreaterThan(0);
    }
  }, 120_000);

  it('brings the views up to date with the candle table on its schedule', async () => {
    const daily = () => count("SELECT count(*) AS n FROM market_daily WHERE exchange = 'late-venue'");
    expect(await daily()).toBe(0);
    const registry = new Registry();
    const r = refresher(registry);
    const run = new AbortController();
    r.start(run.signal);
    try {
      // A second venue of the market appears in the candle table after the schedule started: the
      // next rounds show it in the summaries and in the cross-venue spreads.
      await db.query(
        `INSERT INTO candles SELECT 'late-venue', symbol, "interval", open_time, close_time, market, open + 1,
                high + 1, low + 1, close + 1, volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume,
                vwap, first_trade_id, last_trade_id, revision
           FROM candles WHERE "interval" = '1m' AND symbol = $1`,
        [symbol],
      );
      const want = await count(
        `SELECT count(DISTINCT date_trunc('day', open_time AT TIME ZONE 'UTC')) AS n
           FROM candles WHERE exchange = 'late-venue' AND "interval" = '1m'`,
      );
      const wantSpreads = await count("SELECT count(*) AS n FROM candles WHERE exchange = 'late-venue' AND trades > 0");
      const spreads = () => count("SELECT count(*) AS n FROM cross_venue_spreads WHERE high_venue = 'late-venue'");
      expect(want).toBeGreaterThan(0);
      expect(wantSpreads).toBeGreaterThan(0);
      // One round refreshes the views one after the other: wait for the round that holds both.
      const deadline = Date.now() + 60_000;
      while ((await daily()) !== want || (await spreads()) !== wantSpreads) {
        if (Date.now() > deadline) {
          throw new Error(`market_daily ${await daily()} of ${want}, spreads ${await spreads()} of ${wantSpreads}`);
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    } finally {
      run.abort();
      await r.close();
    }
  }, 120_000);

  it('runs in `tickmesh worker --models-refresh-every`, with its metrics', async () => {
    const topic = freshName('models-worker');
    await createTradeTopics(
      new Kafka({
        clientId: 'models-schedule-test',
        brokers: endpoint('KAFKA_BROKERS').split(','),
        logLevel: logLevel.NOTHING,
      }),
      topic,
      1,
    );
    const port = await freePort();
    const worker = spawnWorker([
      ...replayWorkerArgv(topic, schema, port),
      ...['--context', 'false', '--index-actors', 'false', '--models-refresh-every', '1'],
    ]);
    try {
      await worker.running;
      const series = async (name: string) => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
      };
      const deadline = Date.now() + 60_000;
      while (!((await series('tickmesh_models_refresh_last_success_timestamp_seconds')) > 0)) {
        if (Date.now() > deadline) throw new Error('the worker never refreshed the models');
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(await series('tickmesh_models_refresh_duration_seconds')).toBeGreaterThan(0);
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  }, 120_000);
});
