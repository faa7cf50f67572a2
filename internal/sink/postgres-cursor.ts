import pg from 'pg';
import { type PostgresStoreOptions, postgresPoolConfig } from './postgres-store.js';

/**
 * Reads a query's rows in batches through a server-side cursor, in one read-only, repeatable-read
 * transaction: memory holds one batch whatever the result's size, and every batch sees the same
 * snapshot. Rows come as arrays of the server's text (cast columns to text for exact values);
 * `count` runs in the same snapshot, before the first batch.
 */
export interface CursorRead {
  /** Rows of `countSql` (one row, one column), in the cursor's snapshot. */
  readonly total: number;
  batches(): AsyncIterable<readonly (string | null)[][]>;
  close(): Promise<void>;
}

export async function openCursor(
  options: PostgresStoreOptions,
  query: { readonly sql: string; readonly countSql: string; readonly params: readonly unknown[] },
  batchRows: number,
): Promise<CursorRead> {
  const client = new pg.Client({ ...postgresPoolConfig({ ...options, poolSize: 1 }), statement_timeout: 0 });
  await client.connect();
  let open = true;
  const end = async (): Promise<void> => {
    if (!open) return;
    open = false;
    await client.query('ROLLBACK').catch(() => {});
    await client.end();
  };
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const counted = await client.query({ text: query.countSql, values: [...query.params], rowMode: 'array' });
    const total = Number(counted.rows[0]?.[0] ?? 0);
    await client.query({
      text: `DECLARE tickmesh_export NO SCROLL CURSOR FOR ${query.sql}`,
      values: [...query.params],
    });
    return {
      total,
      async *batches() {
        for (;;) {
          const res = await client.query({ text: `FETCH ${batchRows} FROM tickmesh_export`, rowMode: 'array' });
          if (res.rows.length === 0) return;
          yield res.rows as (string | null)[][];
        }
      },
      close: end,
    };
  } catch (err) {
    await end();
    throw err;
  }
}
