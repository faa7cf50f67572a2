import pg from 'pg';
import { MODEL_VIEWS, MODELS_POPULATED } from './models-sql.js';
import { type PostgresStoreOptions, postgresPoolConfig } from './postgres-store.js';
import { quoteIdent } from './sql.js';

export interface ModelRefresh {
  readonly view: string;
  readonly concurrently: boolean;
  readonly ms: number;
}

export interface RefreshModelsOptions {
  /**
   * What to do when another session is refreshing the same schema's models: `wait` for it to
   * finish, then refresh (the command); `skip` and return undefined at once (the workers' schedule,
   * so replicas do not queue up behind each other).
   */
  readonly ifBusy?: 'wait' | 'skip';
  /** Aborting ends the connection: the refresh in flight rejects. */
  readonly signal?: AbortSignal;
}

/**
 * One refresher per schema at a time: a session-level advisory lock, released with the session if
 * the process dies. Its key differs from the migration lock's (sql.ts LOCK_SCHEMA).
 */
const LOCK_KEY = `hashtext('tickmesh-models:' || current_schema())`;

/**
 * Refreshes every model view (models-sql.ts) of the schema, one after the other: CONCURRENTLY
 * (readers keep the old rows until the new ones are in) once a view has been populated, plainly
 * the first time. The schema must be migrated (Store.migrate()). Two callers never refresh the
 * same schema at once (see `ifBusy`); undefined means skipped.
 */
export async function refreshModels(
  options: PostgresStoreOptions,
  { ifBusy = 'wait', signal }: RefreshModelsOptions = {},
): Promise<ModelRefresh[] | undefined> {
  signal?.throwIfAborted();
  const client = new pg.Client({ ...postgresPoolConfig({ ...options, poolSize: 1 }), statement_timeout: 0 });
  // A client that fails after connect (its connection ended under it) must not throw from an emitter.
  client.on('error', () => undefined);
  // pg leaves a connect or query pending forever when the client is ended under it: each step
  // races the signal, and an abort ends the connection without waiting for it.
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      reject(signal?.reason);
      void client.end().catch(() => undefined);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  const step = <T>(p: Promise<T>): Promise<T> => (signal ? Promise.race([p, aborted]) : p);
  try {
    await step(client.connect());
    if (ifBusy === 'skip') {
      const { rows } = await step(
        client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_KEY}) AS locked`),
      );
      if (rows[0]?.locked !== true) return undefined;
    } else {
      await step(client.query(`SELECT pg_advisory_lock(${LOCK_KEY})`));
    }
    const populated = new Map(
      (await step(client.query<{ matviewname: string; ispopulated: boolean }>(MODELS_POPULATED))).rows.map((r) => [
        r.matviewname,
        r.ispopulated,
      ]),
    );
    const done: ModelRefresh[] = [];
    for (const view of MODEL_VIEWS) {
      const concurrently = populated.get(view) === true;
      const started = performance.now();
      await step(client.query(`REFRESH MATERIALIZED VIEW ${concurrently ? 'CONCURRENTLY ' : ''}${quoteIdent(view)}`));
      done.push({ view, concurrently, ms: Math.round(performance.now() - started) });
    }
    await step(client.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`));
    return done;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!signal?.aborted) await client.end().catch(() => undefined);
  }
}
