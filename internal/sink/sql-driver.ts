/** A result row, by column name. */
export type Row = Record<string, unknown>;

export interface SqlSession {
  /** One statement with $n parameters. Byte parameters are Uint8Array. */
  query(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Several statements, no parameters. */
  exec(sql: string): Promise<void>;
}

/**
 * What the Store needs from a database driver: the two adapters (pg, PGlite) implement this
 * and nothing else, so both run exactly the statements of sql.ts.
 */
export interface SqlDriver extends SqlSession {
  /** Runs before the migrations: creates the schema where the driver has one to create, opens connections. */
  prepare(): Promise<void>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
  /** Turns a driver error into tickmesh's (UnavailableError for a lost server); others unchanged. */
  classify(err: unknown): unknown;
  /** Whether the error says a row had no candle partition for its open time. */
  isMissingPartition(err: unknown): boolean;
  close(): Promise<void>;
}
