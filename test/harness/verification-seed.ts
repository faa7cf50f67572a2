import type { Candle } from '../../internal/market/candle.js';
import type { CandleVerification } from '../../internal/verify/verification.js';

/**
 * Writes a judgement into a stored candle's row as the reconciler does (migration 8's columns),
 * for tests of the reading side: `query` runs one statement on the store's database.
 */
export async function seedVerification(
  query: (sql: string, params: unknown[]) => Promise<unknown>,
  c: Pick<Candle, 'exchange' | 'symbol' | 'interval' | 'openTime'>,
  v: CandleVerification,
  table = 'candles',
): Promise<void> {
  await query(
    `UPDATE ${table} SET verification = $5, verified_revision = $6, verification_detail = $7::jsonb
     WHERE exchange = $1 AND symbol = $2 AND "interval" = $3 AND open_time = $4::timestamptz`,
    [c.exchange, c.symbol, c.interval, new Date(c.openTime).toISOString(), v.status, v.revision, JSON.stringify(v)],
  );
}

/** A `mismatch` judgement of `revision` naming one field. */
export function mismatchOf(revision: number, checkedAt: number): CandleVerification {
  return {
    status: 'mismatch',
    revision,
    differences: [{ field: 'volume', ours: '1.23456789', theirs: '1.33456789' }],
    conventionDifferences: [],
    checkedAt,
  };
}
