import { Client, Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../internal/runtime/errors.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import type { CommitBatch } from '../../internal/sink/store.js';
import { endpoint, freshName } from '../harness/env.js';

const batch = (nextOffset: bigint): CommitBatch => ({
  topic: 't',
  partition: 0,
  epoch: 1,
  nextOffset,
  state: new Uint8Array([1, 2, 3]),
  candles: [],
  alerts: [],
});

/**
 * Connections the server drops (a restart, pg_terminate_backend) while the store uses them or
 * holds them idle. Either way the process must live on (an 'error' event without a listener
 * would crash it, and vitest fails the run on it), the commit in flight fails as retriable, and
 * the next one gets a fresh connection.
 */
describe('PostgreSQL store when the server drops its connections', () => {
  it('fails a commit whose connection is terminated mid-transaction as UnavailableError, and commits again', async () => {
    const connectionString = endpoint('DATABASE_URL');
    const schema = freshName('pgdrop').replace(/-/g, '_');
    const app = freshName('pgdrop');
    const store = createPostgresStore({ connectionString, schema, applicationName: app });
    const admin = new Pool({ connectionString, max: 2 });
    const locker = new Client({ connectionString, options: `-c search_path=${schema}` });
    try {
      await store.migrate();
      await store.commit(batch(1n));
      await locker.connect();
      // Hold the checkpoint row so the next commit waits inside its transaction.
      await locker.query('BEGIN');
      await locker.query(`SELECT * FROM checkpoints WHERE topic = 't' AND partition = 0 FOR UPDATE`);
      const commit = store.commit(batch(2n)).then(
        () => undefined,
        (e: unknown) => e,
      );
      const pid = await (async () => {
        for (let i = 0; i < 200; i++) {
          const { rows } = await admin.query(
            `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
            [app],
          );
          if (rows[0]) return rows[0].pid as number;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error('the commit never waited for the row lock');
      })();
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      const err = await commit;
      expect(err).toBeInstanceOf(UnavailableError);
      await locker.query('ROLLBACK');
      // The socket's end arrives after the failed query: give it the time to reach the client.
      await new Promise((r) => setTimeout(r, 200));
      await store.commit(batch(2n));
      expect((await store.loadCheckpoint('t', 0))?.nextOffset).toBe(2n);

      // Now every connection of the store is idle in its pool: drop them all.
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app]);
      await new Promise((r) => setTimeout(r, 200));
      await store.commit(batch(3n));
      expect((await store.loadCheckpoint('t', 0))?.nextOffset).toBe(3n);
    } finally {
      await locker.end().catch(() => {});
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  });
});
