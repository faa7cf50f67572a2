/**
 * The one SQL of the Store, run unchanged by PostgreSQL (pg) and PGlite. Tables are created in
 * the connection's current schema (search_path), so each test can use a fresh schema.
 *
 * Candles are partitioned by RANGE (open_time), one partition per UTC month, created on demand
 * before a commit touches the month. Parameters travel as text or one JSON document so that
 * both drivers bind them identically; results are cast to text for the same reason.
 */
import type { VerifyStatus } from '../verify/compare.js';
import { CONTEXT_MIGRATION_SQL } from './context-sql.js';
import { MODELS_MIGRATION_SQL } from './models-sql.js';
import type { VerificationState } from './verification-store.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Applied in order, each once, recorded in tickmesh_migrations. Never edit one that shipped: add another. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'candles, alerts, checkpoints',
    sql: `
CREATE TABLE candles (
  exchange               text        NOT NULL,
  symbol                 text        NOT NULL,
  "interval"             text        NOT NULL,
  open_time              timestamptz NOT NULL,
  close_time             timestamptz NOT NULL,
  market                 text        NOT NULL,
  open                   numeric     NOT NULL,
  high                   numeric     NOT NULL,
  low                    numeric     NOT NULL,
  close                  numeric     NOT NULL,
  volume                 numeric     NOT NULL,
  quote_volume           numeric     NOT NULL,
  trades                 bigint      NOT NULL,
  taker_buy_volume       numeric     NOT NULL,
  taker_buy_quote_volume numeric     NOT NULL,
  vwap                   numeric     NOT NULL,
  first_trade_id         text        NOT NULL,
  last_trade_id          text        NOT NULL,
  revision               integer     NOT NULL,
  PRIMARY KEY (exchange, symbol, "interval", open_time)
) PARTITION BY RANGE (open_time);

CREATE TABLE alerts (
  id         text        PRIMARY KEY,
  exchange   text        NOT NULL,
  symbol     text        NOT NULL,
  market     text        NOT NULL,
  kind       text        NOT NULL,
  severity   text        NOT NULL,
  time       timestamptz NOT NULL,
  "interval" text,
  message    text        NOT NULL,
  evidence   jsonb       NOT NULL
);
CREATE INDEX alerts_time ON alerts (time, id);
CREATE INDEX alerts_market_time ON alerts (exchange, symbol, time);

CREATE TABLE checkpoints (
  topic       text        NOT NULL,
  partition   integer     NOT NULL,
  epoch       bigint      NOT NULL,
  next_offset bigint,
  state       bytea,
  updated_at  timestamptz NOT NULL,
  PRIMARY KEY (topic, partition)
);
`,
  },
  {
    version: 2,
    name: 'parked market actors',
    sql: `
CREATE TABLE parked_actors (
  topic     text    NOT NULL,
  partition integer NOT NULL,
  key       text    NOT NULL,
  watermark double precision NOT NULL,
  state     bytea   NOT NULL,
  PRIMARY KEY (topic, partition, key)
);
`,
  },
  {
    version: 3,
    name: 'trend predictions',
    sql: `
CREATE TABLE predictions (
  exchange         text             NOT NULL,
  symbol           text             NOT NULL,
  "interval"       text             NOT NULL,
  open_time        timestamptz      NOT NULL,
  target_open_time timestamptz      NOT NULL,
  market           text             NOT NULL,
  p_up             double precision NOT NULL CHECK (p_up >= 0 AND p_up <= 1),
  baselines        jsonb            NOT NULL,
  scores           jsonb            NOT NULL,
  PRIMARY KEY (exchange, symbol, "interval", open_time)
);
`,
  },
  {
    version: 4,
    name: 'indicators of closed candles',
    sql: `
CREATE TABLE indicators (
  exchange   text             NOT NULL,
  symbol     text             NOT NULL,
  "interval" text             NOT NULL,
  open_time  timestamptz      NOT NULL,
  market     text             NOT NULL,
  vwap       double precision,
  volatility double precision,
  imbalance  double precision,
  sma        jsonb            NOT NULL,
  ema        jsonb            NOT NULL,
  PRIMARY KEY (exchange, symbol, "interval", open_time)
);
`,
  },
  { version: 5, name: 'reference snapshots, sentiment, headlines', sql: CONTEXT_MIGRATION_SQL },
  {
    version: 6,
    name: 'index actor state, alert kinds',
    sql: `
CREATE TABLE index_states (
  asset      text        PRIMARY KEY,
  diverging  jsonb       NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX alerts_kind_time ON alerts (kind, time, id);
`,
  },
  { version: 7, name: 'SQL models over the candles', sql: MODELS_MIGRATION_SQL },
  {
    version: 8,
    name: 'candle verification against the venue',
    // CandleVerification (internal/verify/verification.ts): the status and the revision it judged
    // in columns for queries, the whole judgement as jsonb. A candle's revision clears them.
    sql: `
ALTER TABLE candles ADD COLUMN verification text
  CHECK (verification IN ('verified', 'mismatch', 'unverifiable'));
ALTER TABLE candles ADD COLUMN verified_revision integer;
ALTER TABLE candles ADD COLUMN verification_detail jsonb;
`,
  },
  {
    version: 9,
    name: 'market actor states per row',
    // One row per market actor of a partition, written with its checkpoint only when the actor
    // changed (a checkpoint whose state says actorsInRows; docs/WORKER.md).
    sql: `
CREATE TABLE actor_states (
  topic     text    NOT NULL,
  partition integer NOT NULL,
  key       text    NOT NULL,
  state     bytea   NOT NULL,
  PRIMARY KEY (topic, partition, key)
);
`,
  },
  {
    version: 10,
    name: 'candles by verification status',
    // The candles the venue disagrees with, few among many: `/api/v1/candles?verification=mismatch`
    // reads one market's by this index (SELECT_CANDLES_BY_VERIFICATION), and `/api/v1/verification`
    // lists every market's from it too (it holds only the mismatches). A partitioned index: every
    // time partition, present and future, gets its own.
    sql: `
CREATE INDEX candles_mismatch ON candles (exchange, symbol, "interval", open_time) WHERE verification = 'mismatch';
`,
  },
];

export const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS tickmesh_migrations (
  version    integer     PRIMARY KEY,
  name       text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** Serializes migrate() and partition creation across processes, per schema. */
export const LOCK_SCHEMA = `SELECT pg_advisory_xact_lock(hashtext('tickmesh:' || current_schema()))`;

export const APPLIED_VERSIONS = 'SELECT version FROM tickmesh_migrations ORDER BY version';

export const RECORD_MIGRATION = 'INSERT INTO tickmesh_migrations (version, name) VALUES ($1, $2)';

/**
 * Raises the fence and writes the checkpoint in one statement; no row comes back when a
 * higher epoch holds the partition. Runs first in the commit transaction, so the row lock also
 * serializes two owners racing on one partition.
 */
export const UPSERT_CHECKPOINT = `
INSERT INTO checkpoints AS c (topic, partition, epoch, next_offset, state, updated_at)
VALUES ($1, $2, $3::bigint, $4::bigint, $5, now())
ON CONFLICT (topic, partition) DO UPDATE
  SET epoch = EXCLUDED.epoch, next_offset = EXCLUDED.next_offset, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
  WHERE c.epoch <= EXCLUDED.epoch
RETURNING epoch::text`;

/** Raises the fence without touching the committed position; no row back when fenced. */
export const CLAIM = `
INSERT INTO checkpoints AS c (topic, partition, epoch, updated_at)
VALUES ($1, $2, $3::bigint, now())
ON CONFLICT (topic, partition) DO UPDATE
  SET epoch = EXCLUDED.epoch, updated_at = EXCLUDED.updated_at
  WHERE c.epoch <= EXCLUDED.epoch
RETURNING epoch::text, next_offset::text, state`;

export const SELECT_CHECKPOINT = `
SELECT epoch::text, next_offset::text, state FROM checkpoints WHERE topic = $1 AND partition = $2`;

const CANDLE_RECORD = `
  exchange text, symbol text, "interval" text, open_time timestamptz, close_time timestamptz, market text,
  open numeric, high numeric, low numeric, close numeric, volume numeric, quote_volume numeric, trades bigint,
  taker_buy_volume numeric, taker_buy_quote_volume numeric, vwap numeric, first_trade_id text, last_trade_id text,
  revision integer`;

const CANDLE_COLUMNS = `exchange, symbol, "interval", open_time, close_time, market, open, high, low, close, volume,
  quote_volume, trades, taker_buy_volume, taker_buy_quote_volume, vwap, first_trade_id, last_trade_id, revision`;

/**
 * Upserts a JSON array of candle rows (at most one per key). A stored row is replaced only by
 * a revision at least as high: an equal revision rewrites identical values on replay, a lower
 * one (a stale writer) changes nothing. A higher revision clears the verification (migration 8):
 * a revision is judged again (verification-store.ts); a replay of the same revision keeps it.
 */
export const UPSERT_CANDLES = `
INSERT INTO candles (${CANDLE_COLUMNS})
SELECT ${CANDLE_COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS x(${CANDLE_RECORD})
ON CONFLICT (exchange, symbol, "interval", open_time) DO UPDATE SET
  close_time = EXCLUDED.close_time, market = EXCLUDED.market, open = EXCLUDED.open, high = EXCLUDED.high,
  low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume, quote_volume = EXCLUDED.quote_volume,
  trades = EXCLUDED.trades, taker_buy_volume = EXCLUDED.taker_buy_volume,
  taker_buy_quote_volume = EXCLUDED.taker_buy_quote_volume, vwap = EXCLUDED.vwap,
  first_trade_id = EXCLUDED.first_trade_id, last_trade_id = EXCLUDED.last_trade_id, revision = EXCLUDED.revision,
  verification = CASE WHEN candles.revision < EXCLUDED.revision THEN NULL ELSE candles.verification END,
  verified_revision = CASE WHEN candles.revision < EXCLUDED.revision THEN NULL ELSE candles.verified_revision END,
  verification_detail = CASE WHEN candles.revision < EXCLUDED.revision THEN NULL ELSE candles.verification_detail END
WHERE candles.revision <= EXCLUDED.revision`;

const INDICATOR_COLUMNS = 'exchange, symbol, "interval", open_time, market, vwap, volatility, imbalance, sma, ema';

/**
 * Upserts a JSON array of indicator rows (at most one per key). The actor computes them when the
 * candle first closes and again when a revision changes them, deterministically from its
 * checkpoint, so a replay rewrites identical values and the last one written is the latest.
 */
export const UPSERT_INDICATORS = `
INSERT INTO indicators (${INDICATOR_COLUMNS})
SELECT ${INDICATOR_COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS x(
  exchange text, symbol text, "interval" text, open_time timestamptz, market text, vwap double precision,
  volatility double precision, imbalance double precision, sma jsonb, ema jsonb)
ON CONFLICT (exchange, symbol, "interval", open_time) DO UPDATE SET
  market = EXCLUDED.market, vwap = EXCLUDED.vwap, volatility = EXCLUDED.volatility,
  imbalance = EXCLUDED.imbalance, sma = EXCLUDED.sma, ema = EXCLUDED.ema`;

/** $1 topic, $2 partition, $3 a JSON array of {key, watermark, state (hex)}. */
export const UPSERT_PARKED = `
INSERT INTO parked_actors (topic, partition, key, watermark, state)
SELECT $1, $2, x.key, x.watermark, decode(x.state, 'hex') FROM jsonb_to_recordset($3::jsonb) AS x(key text, watermark double precision, state text)
ON CONFLICT (topic, partition, key) DO UPDATE SET watermark = EXCLUDED.watermark, state = EXCLUDED.state`;

/** $1 topic, $2 partition, $3 a JSON array of keys. */
export const DELETE_PARKED = `
DELETE FROM parked_actors WHERE topic = $1 AND partition = $2
  AND key IN (SELECT jsonb_array_elements_text($3::jsonb))`;

export const SELECT_PARKED_KEYS = `
SELECT key, watermark::text FROM parked_actors WHERE topic = $1 AND partition = $2 ORDER BY key`;

/** Rows per UPSERT_ACTOR_STATES statement (two parameters each, under PostgreSQL's 65,535). */
export const ACTOR_STATES_PER_STATEMENT = 1_000;

/** $1 topic, $2 partition, then key and state per row, `rows` of them. */
export function upsertActorStates(rows: number): string {
  const values: string[] = [];
  for (let i = 0; i < rows; i++) values.push(`($1, $2, $${3 + 2 * i}, $${4 + 2 * i})`);
  return `INSERT INTO actor_states (topic, partition, key, state) VALUES ${values.join(', ')}
ON CONFLICT (topic, partition, key) DO UPDATE SET state = EXCLUDED.state`;
}

/** $1 topic, $2 partition, $3 a JSON array of keys. */
export const DELETE_ACTOR_STATES = `
DELETE FROM actor_states WHERE topic = $1 AND partition = $2
  AND key IN (SELECT jsonb_array_elements_text($3::jsonb))`;

export const DELETE_ALL_ACTOR_STATES = 'DELETE FROM actor_states WHERE topic = $1 AND partition = $2';

export const SELECT_ACTOR_STATES = 'SELECT key, state FROM actor_states WHERE topic = $1 AND partition = $2';

export const SELECT_PARKED = `SELECT state FROM parked_actors WHERE topic = $1 AND partition = $2 AND key = $3`;

const ALERT_COLUMNS = 'id, exchange, symbol, market, kind, severity, time, "interval", message, evidence';

/** Inserts a JSON array of alerts; an id already stored is left as it is. */
export const INSERT_ALERTS = `
INSERT INTO alerts (${ALERT_COLUMNS})
SELECT ${ALERT_COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS x(
  id text, exchange text, symbol text, market text, kind text, severity text, time timestamptz, "interval" text,
  message text, evidence jsonb)
ON CONFLICT (id) DO NOTHING`;

const PREDICTION_COLUMNS = 'exchange, symbol, "interval", open_time, target_open_time, market, p_up, baselines, scores';

/**
 * Inserts a JSON array of predictions; a key already stored is left as it is. A prediction is made
 * once per candle (its first close) from the checkpointed model, so a replay makes the same row.
 */
export const INSERT_PREDICTIONS = `
INSERT INTO predictions (${PREDICTION_COLUMNS})
SELECT ${PREDICTION_COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS x(
  exchange text, symbol text, "interval" text, open_time timestamptz, target_open_time timestamptz, market text,
  p_up double precision, baselines jsonb, scores jsonb)
ON CONFLICT (exchange, symbol, "interval", open_time) DO NOTHING`;

const MS = (col: string): string => `(extract(epoch FROM ${col}) * 1000)::bigint::text AS ${col}`;

/** A candle row with its judgement (migration 8) when it is of the row's current revision. */
export const CANDLE_SELECT = `
SELECT exchange, symbol, "interval", ${MS('open_time')}, ${MS('close_time')}, market,
  open::text, high::text, low::text, close::text, volume::text, quote_volume::text, trades::text,
  taker_buy_volume::text, taker_buy_quote_volume::text, vwap::text, first_trade_id, last_trade_id, revision::text,
  CASE WHEN verified_revision = revision THEN verification_detail::text END AS verification_detail
FROM candles`;

/**
 * The range and latest queries of a table keyed (exchange, symbol, interval, open_time). Range:
 * $1 exchange, $2 symbol, $3 interval, $4 from (ISO or null), $5 to (ISO or null), $6 limit,
 * oldest first. Latest: the newest $4 rows, returned oldest first.
 */
function seriesQueries(select: string, where = ''): { range: string; latest: string } {
  return {
    range: `${select}
WHERE exchange = $1 AND symbol = $2 AND "interval" = $3${where}
  AND ($4::timestamptz IS NULL OR open_time >= $4::timestamptz)
  AND ($5::timestamptz IS NULL OR open_time < $5::timestamptz)
ORDER BY open_time ASC LIMIT $6`,
    latest: `SELECT * FROM (${select}
WHERE exchange = $1 AND symbol = $2 AND "interval" = $3${where}
ORDER BY open_time DESC LIMIT $4) latest ORDER BY open_time ASC`,
  };
}

export const SELECT_CANDLES = seriesQueries(CANDLE_SELECT);

/**
 * The candle range and latest queries of one verification status: a judgement counts only while
 * it is of the row's revision, any other row is `pending`. The status is a literal, not a
 * parameter, so that the planner sees `verification = 'mismatch'` and takes migration 10's
 * partial index (a generic plan over a parameter could not prove its predicate).
 */
export const SELECT_CANDLES_BY_VERIFICATION: Readonly<Record<VerificationState, { range: string; latest: string }>> =
  Object.freeze({
    verified: seriesQueries(CANDLE_SELECT, judged('verified')),
    mismatch: seriesQueries(CANDLE_SELECT, judged('mismatch')),
    unverifiable: seriesQueries(CANDLE_SELECT, judged('unverifiable')),
    pending: seriesQueries(CANDLE_SELECT, ' AND (verification IS NULL OR verified_revision IS DISTINCT FROM revision)'),
  });

function judged(status: VerifyStatus): string {
  return ` AND verification = '${status}' AND verified_revision = revision`;
}

/** Doubles as text with float8 round-trip precision (extra_float_digits defaults to 1 since PostgreSQL 12). */
const INDICATOR_SELECT = `
SELECT exchange, symbol, "interval", ${MS('open_time')}, market, vwap::text, volatility::text, imbalance::text,
  sma::text, ema::text
FROM indicators`;

export const SELECT_INDICATORS = seriesQueries(INDICATOR_SELECT);

/**
 * Alerts filtered by $1 exchange, $2 symbol, $6 kind (each null for any), in the event time range
 * [$3, $4) and after the cursor ($7 time, $8 id) when given; at most $5 rows, oldest first.
 */
const ALERTS_WHERE = `
WHERE ($1::text IS NULL OR exchange = $1) AND ($2::text IS NULL OR symbol = $2)
  AND ($3::timestamptz IS NULL OR time >= $3::timestamptz)
  AND ($4::timestamptz IS NULL OR time < $4::timestamptz)
  AND ($6::text IS NULL OR kind = $6)
  AND ($7::timestamptz IS NULL OR (time, id) > ($7::timestamptz, $8::text))`;

export const SELECT_ALERTS = `
SELECT id, exchange, symbol, market, kind, severity, ${MS('time')}, "interval", message, evidence::text
FROM alerts${ALERTS_WHERE}
ORDER BY time ASC, id ASC LIMIT $5`;

/** SELECT_ALERTS keeping the newest $5 rows of the range, returned oldest first. */
export const SELECT_ALERTS_NEWEST = `
SELECT * FROM (
SELECT id, exchange, symbol, market, kind, severity, ${MS('time')}, "interval", message, evidence::text, time AS t
FROM alerts${ALERTS_WHERE}
ORDER BY t DESC, id DESC LIMIT $5) newest ORDER BY t ASC, id ASC`;

/** $1 asset, $2 a JSON array of the venue keys that diverge. */
export const UPSERT_INDEX_STATE = `
INSERT INTO index_states (asset, diverging, updated_at) VALUES ($1, $2::jsonb, now())
ON CONFLICT (asset) DO UPDATE SET diverging = EXCLUDED.diverging, updated_at = EXCLUDED.updated_at`;

export const SELECT_INDEX_STATE = `SELECT diverging::text FROM index_states WHERE asset = $1`;

const PREDICTION_SELECT = `
SELECT exchange, symbol, "interval", ${MS('open_time')}, ${MS('target_open_time')}, market, p_up::text,
  baselines::text, scores::text
FROM predictions`;

export const SELECT_PREDICTIONS = seriesQueries(PREDICTION_SELECT);

/**
 * Distinct (exchange, symbol) of the candle table by skipping along the primary key index
 * (a loose index scan): one index probe per market instead of reading every row.
 */
export const SELECT_MARKETS = `
WITH RECURSIVE m AS (
  (SELECT exchange, symbol, market FROM candles ORDER BY exchange, symbol LIMIT 1)
  UNION ALL
  SELECT n.exchange, n.symbol, n.market FROM m CROSS JOIN LATERAL (
    SELECT c.exchange, c.symbol, c.market FROM candles c
    WHERE (c.exchange, c.symbol) > (m.exchange, m.symbol)
    ORDER BY c.exchange, c.symbol LIMIT 1) n
)
SELECT exchange, symbol, market FROM m`;

export const DELETE_EXPIRED_CANDLES = `
WITH gone AS (DELETE FROM candles WHERE "interval" = $1 AND open_time < $2::timestamptz RETURNING 1)
SELECT count(*)::text AS n FROM gone`;

/** Predictions go with their interval's candles. */
export const DELETE_EXPIRED_PREDICTIONS = `
WITH gone AS (DELETE FROM predictions WHERE "interval" = $1 AND open_time < $2::timestamptz RETURNING 1)
SELECT count(*)::text AS n FROM gone`;

export const DELETE_EXPIRED_INDICATORS = `
WITH gone AS (DELETE FROM indicators WHERE "interval" = $1 AND open_time < $2::timestamptz RETURNING 1)
SELECT count(*)::text AS n FROM gone`;

export const DELETE_EXPIRED_ALERTS = `
WITH gone AS (DELETE FROM alerts WHERE time < $1::timestamptz RETURNING 1)
SELECT count(*)::text AS n FROM gone`;

/** Names of the candle partitions in the current schema. */
export const LIST_CANDLE_PARTITIONS = `
SELECT c.relname AS name
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
JOIN pg_namespace n ON n.oid = p.relnamespace
WHERE p.relname = 'candles' AND n.nspname = current_schema()
ORDER BY c.relname`;

const PARTITION_NAME = /^candles_p(\d{4})(\d{2})$/;

/** First instant (ms) of the UTC month containing `ms`. */
export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function nextMonthStart(monthStartMs: number): number {
  const d = new Date(monthStartMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

export function partitionName(monthStartMs: number): string {
  const d = new Date(monthStartMs);
  return `candles_p${d.getUTCFullYear().toString().padStart(4, '0')}${(d.getUTCMonth() + 1).toString().padStart(2, '0')}`;
}

/** The month start a partition name stands for, or undefined for a name this module did not make. */
export function partitionMonth(name: string): number | undefined {
  const m = PARTITION_NAME.exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, 1) : undefined;
}

/** DDL for one month's partition; the bounds are formatted here, never taken from input. */
export function createPartitionSql(monthStartMs: number): string {
  const from = new Date(monthStartMs).toISOString();
  const to = new Date(nextMonthStart(monthStartMs)).toISOString();
  return `CREATE TABLE IF NOT EXISTS ${partitionName(monthStartMs)} PARTITION OF candles FOR VALUES FROM ('${from}') TO ('${to}')`;
}

export function dropPartitionSql(name: string): string {
  if (partitionMonth(name) === undefined) throw new Error(`not a candle partition: ${name}`);
  return `DROP TABLE IF EXISTS ${name}`;
}

/** Quotes an identifier (a schema name from configuration). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
