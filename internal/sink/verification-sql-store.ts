import type { Interval } from '../market/interval.js';
import type { SqlSession } from './sql-driver.js';
import { candleFromRow, iso } from './sql-rows.js';
import { SELECT_MISMATCHES, SELECT_MISMATCHES_NEWEST, SELECT_VERIFICATION_COUNTS } from './verification-sql.js';
import type { VerificationState, VerificationStore } from './verification-store.js';

/** The verification part of SqlStore (verification-store.ts); `run` classifies the driver's errors. */
export function verificationSqlStore(db: SqlSession, run: <T>(fn: () => Promise<T>) => Promise<T>): VerificationStore {
  const filter = (q: Parameters<VerificationStore['verificationCounts']>[0]) => [
    q.exchange ?? null,
    q.symbol ?? null,
    q.interval ?? null,
    q.from === undefined ? null : iso(q.from),
    q.to === undefined ? null : iso(q.to),
  ];
  return {
    async verificationCounts(q) {
      const rows = await run(() => db.query(SELECT_VERIFICATION_COUNTS, filter(q)));
      return rows.map((r) => ({
        exchange: r.exchange as string,
        symbol: r.symbol as string,
        interval: r.interval as Interval,
        status: r.status as VerificationState,
        count: Number(r.count),
      }));
    },
    async mismatches(q) {
      const a = q.after;
      const cursor = a === undefined ? [null, null, null, null] : [iso(a.openTime), a.exchange, a.symbol, a.interval];
      const sql = q.newest && a === undefined ? SELECT_MISMATCHES_NEWEST : SELECT_MISMATCHES;
      const rows = await run(() => db.query(sql, [...filter(q), ...cursor, q.limit]));
      return rows.map(candleFromRow);
    },
  };
}
