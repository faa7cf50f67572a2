import { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../internal/runtime/errors.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { MIGRATIONS } from '../../internal/sink/sql.js';
import { defineStoreContract } from '../contracts/store-contract.js';
import { endpoint, freshName } from '../harness/env.js';

defineStoreContract('postgres', async () => {
  const connectionString = endpoint('DATABASE_URL');
  const schema = freshName('store');
  const store = createPostgresStore({ connectionString, schema });
  return {
    store,
    reopen: async () => createPostgresStore({ connectionString, schema }),
    close: async () => {
      await store.close();
      const pool = new Pool({ connectionString, max: 1 });
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
});

describe('PostgreSQL store', () => {
  it('creates the candle table partitioned by range of open_time, one partition per month', async () => {
    const connectionString = endpoint('DATABASE_URL');
    const schema = freshName('store');
    const store = createPostgresStore({ connectionString, schema });
    const pool = new Pool({ connectionString, max: 1 });
    try {
      await store.migrate();
      await store.commit({
        topic: 't',
        partition: 0,
        epoch: 1,
        nextOffset: 1n,
        state: new Uint8Array(),
        alerts: [],
        candles: [
          {
            exchange: 'binance',
            symbol: 'BTCUSDT',
            market: 'BTC-USDT',
            interval: '1m',
            openTime: Date.UTC(2024, 4, 31, 23, 59),
            closeTime: Date.UTC(2024, 4, 31, 23, 59) + 59_999,
            open: '1',
            high: '1',
            low: '1',
            close: '1',
            volume: '0',
            quoteVolume: '0',
            trades: 0,
            takerBuyVolume: '0',
            takerBuyQuoteVolume: '0',
            vwap: '1',
            firstTradeId: '',
            lastTradeId: '',
            revision: 0,
            closed: true,
          },
        ],
      });
      const strategy = await pool.query(
        `SELECT pt.partstrat, a.attname FROM pg_partitioned_table pt
         JOIN pg_class c ON c.oid = pt.partrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0]
         WHERE c.relname = 'candles' AND n.nspname = $1`,
        [schema],
      );
      expect(strategy.rows).toEqual([{ partstrat: 'r', attname: 'open_time' }]);
      const parts = await pool.query(
        `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = p.relnamespace WHERE p.relname = 'candles' AND n.nspname = $1`,
        [schema],
      );
      expect(parts.rows.map((r) => r.relname)).toEqual(['candles_p202405']);
      expect(parts.rows[0].bound).toMatch(/FROM \('2024-05-01 00:00:00\+00'\) TO \('2024-06-01 00:00:00\+00'\)/);
      const versions = await pool.query(`SELECT version FROM "${schema}".tickmesh_migrations ORDER BY version`);
      expect(versions.rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    } finally {
      await store.close();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  });

  it('migrate from several processes at once applies each migration once', async () => {
    const connectionString = endpoint('DATABASE_URL');
    const schema = freshName('store');
    const stores = [0, 1, 2].map(() => createPostgresStore({ connectionString, schema }));
    const pool = new Pool({ connectionString, max: 1 });
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      const versions = await pool.query(`SELECT version FROM "${schema}".tickmesh_migrations ORDER BY version`);
      expect(versions.rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  });

  it('a server that cannot be reached surfaces as a retriable UnavailableError with the cause', async () => {
    const store = createPostgresStore({ connectionString: 'postgres://x:y@127.0.0.1:1/none', connectTimeoutMs: 2_000 });
    try {
      const err = await store.loadCheckpoint('t', 0).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as UnavailableError).retriable).toBe(true);
      expect((err as UnavailableError).cause).toBeDefined();
    } finally {
      await store.close();
    }
  });
});
