/**
 * The SQL of the context tables (migration 5, docs/STORAGE.md): reference snapshots, sentiment
 * values and headlines, each keyed by what makes a record the same record, so that writing a
 * record twice (a replay after a crash) leaves one row. Run unchanged by PostgreSQL and PGlite,
 * like sql.ts.
 */

export const CONTEXT_MIGRATION_SQL = `
CREATE TABLE reference_snapshots (
  asset              text             NOT NULL,
  time               timestamptz      NOT NULL,
  source             text             NOT NULL,
  source_id          text             NOT NULL,
  vs_currency        text             NOT NULL,
  price              double precision NOT NULL,
  market_cap         double precision,
  rank               integer,
  volume_24h         double precision,
  change_24h_pct     double precision,
  circulating_supply double precision,
  total_supply       double precision,
  max_supply         double precision,
  receive_time       timestamptz      NOT NULL,
  PRIMARY KEY (asset, time, source)
);

CREATE TABLE sentiment (
  index_name     text        NOT NULL,
  time           timestamptz NOT NULL,
  source         text        NOT NULL,
  value          integer     NOT NULL,
  classification text        NOT NULL,
  receive_time   timestamptz NOT NULL,
  PRIMARY KEY (index_name, time, source)
);

CREATE TABLE headlines (
  source                text             NOT NULL,
  guid                  text             NOT NULL,
  time                  timestamptz      NOT NULL,
  link                  text,
  title                 text             NOT NULL,
  summary               text,
  published             timestamptz,
  receive_time          timestamptz      NOT NULL,
  assets                jsonb            NOT NULL,
  sentiment_score       double precision NOT NULL,
  sentiment_comparative double precision NOT NULL,
  PRIMARY KEY (source, guid)
);
CREATE INDEX headlines_time ON headlines (time);
CREATE INDEX headlines_assets ON headlines USING gin (assets);
`;

const REFERENCE_COLUMNS = `asset, time, source, source_id, vs_currency, price, market_cap, rank, volume_24h,
  change_24h_pct, circulating_supply, total_supply, max_supply, receive_time`;

/** Inserts a JSON array of reference rows; a key already stored is kept. Returns the keys inserted. */
export const INSERT_REFERENCES = `
INSERT INTO reference_snapshots (${REFERENCE_COLUMNS})
SELECT ${REFERENCE_COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS x(
  asset text, time timestamptz, source text, source_id text, vs_currency text, price double precision,
  market_cap double precision, rank integer, volume_24h double precision, change_24h_pct double precision,
  circulating_supply double precision, total_supply double precision, max_supply double precision,
  receive_time timestamptz)
ON CONFLICT (asset, time, source) DO NOTHING
RETURNING asset, ${ms('time')}, source`;

const SENTIMENT_COLUMNS = 'index_name, time, source, value, classification, receive_time';

export const INSERT_SENTIMENT = `
INSERT INTO sentiment (${SENTIMENT_COLUMNS})
SELECT ${SENTIMENT_COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS x(
  index_name text, time timestamptz, source text, value integer, classification text, receive_time timestamptz)
ON CONFLICT (index_name, time, source) DO NOTHING
RETURNING index_name, ${ms('time')}, source`;

const HEADLINE_COLUMNS = `source, guid, time, link, title, summary, published, receive_time, assets, sentiment_score,
  sentiment_comparative`;

export const INSERT_HEADLINES = `
INSERT INTO headlines (${HEADLINE_COLUMNS})
SELECT ${HEADLINE_COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS x(
  source text, guid text, time timestamptz, link text, title text, summary text, published timestamptz,
  receive_time timestamptz, assets jsonb, sentiment_score double precision, sentiment_comparative double precision)
ON CONFLICT (source, guid) DO NOTHING
RETURNING source, guid`;

/** Alerts written outside a partition's commit (the context actors' news spikes); an id already stored is kept. */
export const INSERT_ALERTS_RETURNING = `
INSERT INTO alerts (id, exchange, symbol, market, kind, severity, time, "interval", message, evidence)
SELECT id, exchange, symbol, market, kind, severity, time, "interval", message, evidence
FROM jsonb_to_recordset($1::jsonb) AS x(
  id text, exchange text, symbol text, market text, kind text, severity text, time timestamptz, "interval" text,
  message text, evidence jsonb)
ON CONFLICT (id) DO NOTHING
RETURNING id`;

function ms(col: string): string {
  return `(extract(epoch FROM ${col}) * 1000)::bigint::text AS ${col}`;
}

const REFERENCE_SELECT = `
SELECT asset, ${ms('time')}, source, source_id, vs_currency, price::text, market_cap::text, rank,
  volume_24h::text, change_24h_pct::text, circulating_supply::text, total_supply::text, max_supply::text,
  ${ms('receive_time')}
FROM reference_snapshots`;

const SENTIMENT_SELECT = `
SELECT index_name, ${ms('time')}, source, value, classification, ${ms('receive_time')} FROM sentiment`;

const HEADLINE_SELECT = `
SELECT source, guid, ${ms('time')}, link, title, summary, ${ms('published')}, ${ms('receive_time')}, assets::text,
  sentiment_score::text, sentiment_comparative::text
FROM headlines`;

/** The newest reference snapshot of each asset (of any source), by asset. */
export const SELECT_LATEST_REFERENCES = `
SELECT * FROM (
SELECT DISTINCT ON (asset) asset, ${ms('time')}, source, source_id, vs_currency, price::text, market_cap::text, rank,
  volume_24h::text, change_24h_pct::text, circulating_supply::text, total_supply::text, max_supply::text,
  ${ms('receive_time')}
FROM reference_snapshots ORDER BY reference_snapshots.asset, reference_snapshots.time DESC, reference_snapshots.source) latest
ORDER BY asset`;

/**
 * The page queries of a context table filtered by `where` ($1 the filter value, or null for none).
 * Range: $2 from, $3 to (ISO or null), $4 limit; oldest first, and a page that is full also holds
 * every other row of its last time, so that paging on from = last time + 1 skips none of the rows
 * that share a time (two headlines of the same second). Latest: the newest $2 rows, oldest first.
 */
function pageQueries(
  table: string,
  select: string,
  where: string,
  order: readonly string[],
): { range: string; latest: string } {
  const filter = `${where}
  AND ($2::timestamptz IS NULL OR ${table}.time >= $2::timestamptz)
  AND ($3::timestamptz IS NULL OR ${table}.time < $3::timestamptz)`;
  const asc = order.map((c) => `${c} ASC`).join(', ');
  const desc = order.map((c) => `${table}.${c} DESC`).join(', ');
  return {
    range: `WITH page AS (SELECT ${table}.time FROM ${table} WHERE ${filter} ORDER BY ${table}.time LIMIT $4)
SELECT * FROM (${select}
WHERE ${filter} AND ${table}.time <= (SELECT max(page.time) FROM page)) rows ORDER BY time::bigint, ${asc}`,
    latest: `SELECT * FROM (${select}
WHERE ${where} ORDER BY ${table}.time DESC, ${desc} LIMIT $2) newest ORDER BY time::bigint, ${asc}`,
  };
}

export const SELECT_REFERENCES = pageQueries('reference_snapshots', REFERENCE_SELECT, 'asset = $1', ['source']);
export const SELECT_SENTIMENT = pageQueries('sentiment', SENTIMENT_SELECT, 'index_name = $1', ['source']);
export const SELECT_HEADLINES = pageQueries(
  'headlines',
  HEADLINE_SELECT,
  '($1::text IS NULL OR headlines.assets ? $1::text)',
  ['source', 'guid'],
);
