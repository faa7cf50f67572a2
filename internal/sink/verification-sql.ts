import { CANDLE_SELECT } from './sql.js';

/**
 * The SQL of the VerificationStore (verification-store.ts), run unchanged by PostgreSQL and
 * PGlite over the columns of migration 8.
 */

/**
 * Writes a JSON array of judgements (at most one per key) into their candle rows: only into the
 * revision judged, never an `unverifiable` over a kline's judgement of the same revision, and
 * not at all when the row already holds the same status and differences (a repeat keeps the
 * first `checkedAt`). Returns the rows it changed, as CANDLE_SELECT reads them.
 */
export const UPDATE_VERIFICATIONS = `
UPDATE candles AS c SET verification = x.status, verified_revision = x.revision, verification_detail = x.detail
FROM jsonb_to_recordset($1::jsonb) AS x(
  exchange text, symbol text, "interval" text, open_time timestamptz, revision integer, status text, detail jsonb)
WHERE c.exchange = x.exchange AND c.symbol = x.symbol AND c."interval" = x."interval" AND c.open_time = x.open_time
  AND c.revision = x.revision
  AND NOT (x.status = 'unverifiable' AND c.verified_revision = x.revision
           AND c.verification IS NOT NULL AND c.verification <> 'unverifiable')
  AND NOT (c.verified_revision IS NOT DISTINCT FROM x.revision AND c.verification IS NOT DISTINCT FROM x.status
           AND (c.verification_detail -> 'differences') IS NOT DISTINCT FROM (x.detail -> 'differences'))
RETURNING c.exchange, c.symbol, c."interval", (extract(epoch FROM c.open_time) * 1000)::bigint::text AS open_time,
  (extract(epoch FROM c.close_time) * 1000)::bigint::text AS close_time, c.market, c.open::text, c.high::text,
  c.low::text, c.close::text, c.volume::text, c.quote_volume::text, c.trades::text, c.taker_buy_volume::text,
  c.taker_buy_quote_volume::text, c.vwap::text, c.first_trade_id, c.last_trade_id, c.revision::text,
  c.verification_detail::text AS verification_detail`;

/**
 * Candles of the markets $1 (a JSON array of {exchange, symbol}) and the intervals $2 (a JSON
 * array) whose current revision has no judgement, or only `unverifiable` (a kline may have come
 * since), opened at most $3 ms before the newest candle
 * of their market and interval; the newest $4, oldest first. Each series is read by its key's
 * index from its newest candle back.
 */
export const SELECT_UNVERIFIED = `
WITH series AS (
  SELECT m.exchange, m.symbol, i.name AS "interval",
    (SELECT max(x.open_time) FROM candles x
      WHERE x.exchange = m.exchange AND x.symbol = m.symbol AND x."interval" = i.name) AS newest
  FROM jsonb_to_recordset($1::jsonb) AS m(exchange text, symbol text)
  CROSS JOIN jsonb_array_elements_text($2::jsonb) AS i(name)
), picked AS (
  SELECT c.* FROM candles c JOIN series s
    ON c.exchange = s.exchange AND c.symbol = s.symbol AND c."interval" = s."interval"
  WHERE c.open_time >= s.newest - $3::bigint * interval '1 millisecond'
    AND (c.verification IS NULL OR c.verification = 'unverifiable')
  ORDER BY c.open_time DESC LIMIT $4
)
${CANDLE_SELECT.replace(/FROM candles$/, 'FROM picked')}
ORDER BY open_time ASC`;

/**
 * The verification reads of verification-store.ts. A row's judgement counts only when it is of
 * the row's revision (`verified_revision = revision`); otherwise the candle is `pending`.
 * $1 exchange, $2 symbol, $3 interval (each null for any), open time in [$4, $5) (null: open).
 */
const FILTER = `($1::text IS NULL OR exchange = $1) AND ($2::text IS NULL OR symbol = $2)
  AND ($3::text IS NULL OR "interval" = $3)
  AND ($4::timestamptz IS NULL OR open_time >= $4::timestamptz)
  AND ($5::timestamptz IS NULL OR open_time < $5::timestamptz)`;

export const SELECT_VERIFICATION_COUNTS = `
SELECT exchange, symbol, "interval",
  CASE WHEN verified_revision = revision AND verification IS NOT NULL THEN verification ELSE 'pending' END AS status,
  count(*)::text AS count
FROM candles
WHERE ${FILTER}
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4`;

const MISMATCH_WHERE = `
WHERE verification = 'mismatch' AND verified_revision = revision AND ${FILTER}
  AND ($6::timestamptz IS NULL OR (open_time, exchange, symbol, "interval") > ($6::timestamptz, $7::text, $8::text, $9::text))`;

const ORDER = (dir: 'ASC' | 'DESC') => `ORDER BY open_time ${dir}, exchange ${dir}, symbol ${dir}, "interval" ${dir}`;

/** The mismatches after the cursor ($6-$9, null for none), at most $10, oldest first. */
export const SELECT_MISMATCHES = `${CANDLE_SELECT}${MISMATCH_WHERE}
${ORDER('ASC')} LIMIT $10`;

/** The newest $10 mismatches of the range, returned oldest first. */
export const SELECT_MISMATCHES_NEWEST = `
SELECT * FROM (${CANDLE_SELECT}${MISMATCH_WHERE}
${ORDER('DESC')} LIMIT $10) newest ${ORDER('ASC')}`;
