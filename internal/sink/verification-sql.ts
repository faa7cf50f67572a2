import { CANDLE_SELECT } from './sql.js';

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
