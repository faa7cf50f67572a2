import pg from 'pg';
import { MODEL_VIEWS, MODELS_POPULATED } from './models-sql.js';
import { type PostgresStoreOptions, postgresPoolConfig } from './postgres-store.js';
import { quoteIdent } from './sql.js';

export interface ModelRefresh {
  readonly view: string;
  readonly concurrently: boolean;
  readonly ms: number;
}

/**
 * Refreshes every model view (models-sql.ts) of the schema, one after the other: CONCURRENTLY
 * (readers keep the old rows until the new ones are in) once a view has been populated, plainly
 * the first time. The schema must be migrated (Store.migrate()).
 */
export async function refreshModels(options: PostgresStoreOptions): Promise<ModelRefresh[]> {
  const client = new pg.Client({ ...postgresPoolConfig({ ...options, poolSize: 1 }), statement_timeout: 0 });
  await client.connect();
  try {
    const populated = new Map(
      (await client.query<{ matviewname: string; ispopulated: boolean }>(MODELS_POPULATED)).rows.map((r) => [
        r.matviewname,
        r.ispopulated,
      ]),
    );
    const done: ModelRefresh[] = [];
    for (const view of MODEL_VIEWS) {
      const concurrently = populated.get(view) === true;
      const started = performance.now();
      await client.query(`REFRESH MATERIALIZED VIEW ${concurrently ? 'CONCURRENTLY ' : ''}${quoteIdent(view)}`);
      done.push({ view, concurrently, ms: Math.round(performance.now() - started) });
    }
    return done;
  } finally {
    await client.end();
  }
}
