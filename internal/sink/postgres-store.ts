import { Pool, type PoolClient, type PoolConfig } from 'pg';
import type { PostgresSecurity } from '../config/connection-security.js';
import { readSecretFile, tlsFailure } from '../config/secret-file.js';
import { ConnectionSecurityError, TickmeshError, UnavailableError } from '../runtime/errors.js';
import { quoteIdent } from './sql.js';
import type { Row, SqlDriver, SqlSession } from './sql-driver.js';
import { classifySqlError, isRetriableSqlState, sqlState } from './sql-errors.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './store.js';

/** The Store on PostgreSQL through a `pg` connection pool, running the SQL of sql.ts. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (DATABASE_URL). */
  readonly connectionString: string;
  /**
   * TLS verified against a CA file and a password file (Endpoints.postgresSecurity). TLS set in
   * the URL (`sslmode=verify-full&sslrootcert=...`) works without it.
   */
  readonly security?: PostgresSecurity | undefined;
  /** Schema for every table (search_path of every connection); created by migrate(). Default `public`. */
  readonly schema?: string;
  /** Connections in the pool, all opened by migrate() and kept open. Default 4. */
  readonly poolSize?: number;
  /** How long to wait for a connection, ms. Default 10,000. */
  readonly connectTimeoutMs?: number;
  /** Per-statement server-side timeout, ms. Default 60,000. */
  readonly statementTimeoutMs?: number;
  readonly applicationName?: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const CONNECTION_MESSAGES =
  /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Client was closed|terminating connection/i;

/** Why the server refused this client (credentials, pg_hba, TLS); undefined for anything else. */
function postgresSecurityFailure(err: unknown): string | undefined {
  if (err instanceof TickmeshError) return undefined;
  const tls = tlsFailure(err);
  if (tls) return tls;
  const e = err as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : '';
  // 28P01 invalid_password, 28000 invalid_authorization_specification (pg_hba: no entry, or
  // hostssl only and the client came without TLS).
  if (e?.code === '28P01' || e?.code === '28000') return `the server refused the login (${message})`;
  if (/does not support SSL/i.test(message))
    return `TLS required by the client, not offered by the server (${message})`;
  return undefined;
}

export function isUnavailable(err: unknown): boolean {
  if (err instanceof TickmeshError) return false;
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const state = sqlState(err);
  if ((state !== undefined && isRetriableSqlState(state)) || NETWORK_CODES.has(code)) return true;
  if (err instanceof AggregateError) return err.errors.some(isUnavailable);
  return typeof e?.message === 'string' && CONNECTION_MESSAGES.test(e.message);
}

function param(v: unknown): unknown {
  return v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
}

function session(client: Pool | PoolClient): SqlSession {
  return {
    query: async (text, params = []) => (await client.query<Row>(text, params.map(param))).rows,
    exec: async (sql) => {
      await client.query(sql);
    },
  };
}

class PostgresDriver implements SqlDriver {
  private readonly direct: SqlSession;

  constructor(
    private readonly pool: Pool,
    private readonly schema: string | undefined,
    private readonly size: number,
  ) {
    this.direct = session(pool);
  }

  async prepare(): Promise<void> {
    // Opens the whole pool now (it keeps `min` = `max` connections): a connection opened on demand
    // costs a server process start and a login, and the first claims of a partition handoff, which
    // pause the partition, would pay for it.
    const clients = await Promise.all(Array.from({ length: this.size }, () => this.pool.connect()));
    for (const c of clients) c.release();
    if (this.schema === undefined) return;
    try {
      await this.pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`);
    } catch (err) {
      // Two processes creating the schema at once: the loser sees a duplicate, which is fine.
      const code = (err as { code?: string }).code;
      if (code !== '23505' && code !== '42P06') throw err;
    }
  }

  query(text: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.direct.query(text, params);
  }

  exec(sql: string): Promise<void> {
    return this.direct.exec(sql);
  }

  async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // The pool listens for 'error' only on idle clients. A connection the server drops while it
    // is checked out (a restart, pg_terminate_backend) emits 'error' besides failing the query,
    // and an 'error' event nobody listens to would crash the process.
    const onError = (err: Error): void => {
      broken ??= err;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(session(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        // A connection that cannot roll back is not returned to the pool.
        broken = rollbackErr as Error;
      }
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  classify(err: unknown): unknown {
    const refused = postgresSecurityFailure(err);
    if (refused) return new ConnectionSecurityError('postgres', refused, { cause: err });
    // A candle row without a monthly partition is the store's to fix (SqlStore.commit), not a data error.
    if (this.isMissingPartition(err)) return err;
    if (!isUnavailable(err)) return classifySqlError(err);
    // The SQLSTATE and the server's words go into the message: /readyz shows it.
    const state = sqlState(err);
    const text = (err as { message?: unknown } | null)?.message;
    const detail = `${state === undefined ? '' : ` (${state})`}${typeof text === 'string' ? `: ${text}` : ''}`;
    return new UnavailableError(`postgres unavailable${detail}`, { cause: err });
  }

  isMissingPartition(err: unknown): boolean {
    const e = err as { code?: string; message?: string } | null;
    return e?.code === '23514' && /no partition/.test(e.message ?? '');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The URL with the password from `file`, unless the URL has one of its own. */
function withPassword(connectionString: string, file: string): string {
  const url = new URL(connectionString);
  if (url.password !== '') return connectionString;
  url.password = encodeURIComponent(readSecretFile(file, 'DATABASE_PASSWORD_FILE'));
  return url.toString();
}

/** The pg pool settings of `options`: the Store's, and any other reader's of the same database. */
export function postgresPoolConfig(options: PostgresStoreOptions): PoolConfig {
  const schema = options.schema === 'public' ? undefined : options.schema;
  const size = options.poolSize ?? 4;
  const sec = options.security;
  // pg merges the parsed URL over the options, its absent password included: a password
  // function would be overwritten, so a password file's content goes into the URL.
  const passwordFile = sec?.passwordFile;
  return {
    connectionString: passwordFile ? withPassword(options.connectionString, passwordFile) : options.connectionString,
    // Explicit settings; the URL's own sslmode/sslrootcert/password, when given, take precedence
    // (pg merges the parsed connection string over these).
    ...(sec?.tls
      ? {
          ssl: {
            rejectUnauthorized: true,
            ...(sec.tls.caFile ? { ca: readSecretFile(sec.tls.caFile, 'DATABASE_TLS_CA_FILE') } : {}),
          },
        }
      : {}),
    // The search path as a startup parameter: set before the connection takes any query. A
    // schema that does not exist yet is fine here; migrate() creates it.
    ...(schema === undefined ? {} : { options: `-c search_path=${quoteIdent(schema).replaceAll(' ', '\\ ')}` }),
    max: size,
    min: size,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    statement_timeout: options.statementTimeoutMs ?? 60_000,
    application_name: options.applicationName ?? 'tickmesh',
  };
}

export function createPostgresStore(options: PostgresStoreOptions): Store {
  const schema = options.schema === 'public' ? undefined : options.schema;
  const size = options.poolSize ?? 4;
  const pool = new Pool(postgresPoolConfig(options));
  // An idle connection the server dropped emits 'error' on the pool; without a listener that
  // would crash the process. The next query gets a fresh connection (or UnavailableError).
  pool.on('error', () => {});
  return new SqlStore(new PostgresDriver(pool, schema, size));
}
