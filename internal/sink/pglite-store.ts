import { PGlite } from '@electric-sql/pglite';
import { quoteIdent } from './sql.js';
import type { Row, SqlDriver, SqlSession } from './sql-driver.js';
import { classifySqlError } from './sql-errors.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './store.js';

/**
 * The Store of the embedded mode: PGlite (PostgreSQL compiled to WebAssembly, in process) running
 * the same SQL as the PostgreSQL adapter. In memory unless `dataDir` is given.
 */
export interface PgliteStoreOptions {
  /** A directory to persist the database in; omitted, the database lives in memory. */
  readonly dataDir?: string;
  /** Schema for every table; created when missing. Default `public`. */
  readonly schema?: string;
  /**
   * An open PGlite database to use instead of starting one (starting one compiles PostgreSQL's
   * WebAssembly and runs initdb: seconds). The store then leaves it open on close(). PGlite has
   * one connection, so the search path this store sets holds for every user of that database.
   */
  readonly database?: PGlite;
}

const MISSING_PARTITION = '23514';

class PgliteDriver implements SqlDriver {
  constructor(
    private readonly db: PGlite,
    private readonly owned: boolean,
  ) {}

  async prepare(): Promise<void> {}

  async query(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.db.query<Row>(text, [...params])).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) =>
      fn({
        query: async (text, params = []) => (await tx.query<Row>(text, [...params])).rows,
        exec: async (sql) => {
          await tx.exec(sql);
        },
      }),
    );
  }

  // In process there is no server to lose, but a value the database refuses is still the data's.
  classify(err: unknown): unknown {
    return this.isMissingPartition(err) ? err : classifySqlError(err);
  }

  isMissingPartition(err: unknown): boolean {
    return (err as { code?: string } | null)?.code === MISSING_PARTITION && /no partition/.test(String(err));
  }

  async close(): Promise<void> {
    if (this.owned && !this.db.closed) await this.db.close();
  }
}

/** A PGlite store; share() hands the same database to another component of the process. */
export class PgliteStore extends SqlStore {
  constructor(private readonly driver: PgliteDriver) {
    super(driver);
  }

  /** Another Store on this database; closing it leaves the database open (the owner closes it). */
  share(): Store {
    const driver = this.driver;
    const shared: SqlDriver = {
      prepare: () => driver.prepare(),
      query: (text, params) => driver.query(text, params),
      exec: (sql) => driver.exec(sql),
      transaction: (fn) => driver.transaction(fn),
      classify: (err) => driver.classify(err),
      isMissingPartition: (err) => driver.isMissingPartition(err),
      close: async () => {},
    };
    return new SqlStore(shared);
  }
}

export async function createPgliteStore(options: PgliteStoreOptions = {}): Promise<PgliteStore> {
  const owned = options.database === undefined;
  const db =
    options.database ?? (await PGlite.create(options.dataDir === undefined ? {} : { dataDir: options.dataDir }));
  if (options.schema !== undefined && options.schema !== 'public') {
    const schema = quoteIdent(options.schema);
    // One connection for the life of the database, so the search path set here holds for every statement.
    await db.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}`);
  }
  return new PgliteStore(new PgliteDriver(db, owned));
}
