import type { Candle } from '../market/candle.js';
import type { Interval } from '../market/interval.js';
import { FencedError } from '../runtime/errors.js';
import type { VerificationEvent } from '../verify/verification.js';
import { SELECT_CHECKPOINT, UPSERT_CHECKPOINT } from './sql.js';
import type { SqlSession } from './sql-driver.js';
import { candleFromRow, iso, storedCandleFromRow } from './sql-rows.js';
import {
  SELECT_MISMATCHES,
  SELECT_MISMATCHES_NEWEST,
  SELECT_UNVERIFIED,
  SELECT_VERIFICATION_COUNTS,
  UPDATE_VERIFICATIONS,
} from './verification-sql.js';
import type {
  JudgedCandle,
  VerificationCommit,
  VerificationQuery,
  VerificationState,
  VerificationStore,
} from './verification-store.js';

const keyOf = (v: { exchange: string; symbol: string; interval: string; openTime: number }) =>
  `${v.exchange}\u0000${v.symbol}\u0000${v.interval}\u0000${v.openTime}`;

/**
 * The verification part of SqlStore (verification-store.ts) over one SqlSession; `run`
 * classifies the driver's errors as the store does. The klines topic's checkpoints are rows of
 * the checkpoints table, fenced by the same epochs as the trades topic's.
 */
export function verificationSqlStore(
  db: SqlSession & { transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> },
  run: <T>(fn: () => Promise<T>) => Promise<T>,
): VerificationStore {
  const filter = (q: VerificationQuery) => [
    q.exchange ?? null,
    q.symbol ?? null,
    q.interval ?? null,
    q.from === undefined ? null : iso(q.from),
    q.to === undefined ? null : iso(q.to),
  ];
  return {
    async commitVerifications(c: VerificationCommit): Promise<JudgedCandle[]> {
      if (!Number.isSafeInteger(c.epoch) || c.epoch < 0) throw new RangeError('epoch must be a non-negative integer');
      if (c.nextOffset < 0n) throw new RangeError('nextOffset must be >= 0');
      // The last judgement of a key wins: one row per key, as UPDATE ... FROM needs.
      const latest = new Map<string, VerificationEvent>();
      for (const v of c.verifications) latest.set(keyOf(v), v);
      return run(() =>
        db.transaction(async (tx) => {
          const fence = await tx.query(UPSERT_CHECKPOINT, [
            c.topic,
            c.partition,
            String(c.epoch),
            c.nextOffset.toString(),
            c.state,
          ]);
          if (!fence[0]) {
            const rows = await tx.query(SELECT_CHECKPOINT, [c.topic, c.partition]);
            const holder = rows[0] ? String(rows[0].epoch) : 'unknown';
            throw new FencedError(`partition ${c.topic}/${c.partition}: epoch ${c.epoch} is fenced by epoch ${holder}`);
          }
          if (latest.size === 0) return [];
          const rows = [...latest.values()].map((v) => {
            const { exchange, symbol, interval, openTime, ...verification } = v;
            return {
              exchange,
              symbol,
              interval,
              open_time: iso(openTime),
              revision: v.revision,
              status: v.status,
              detail: verification,
            };
          });
          const changed = await tx.query(UPDATE_VERIFICATIONS, [JSON.stringify(rows)]);
          return changed.map((r) => storedCandleFromRow(r) as JudgedCandle);
        }),
      );
    },

    async unverifiedCandles(q): Promise<Candle[]> {
      if (q.markets.length === 0 || q.intervals.length === 0) return [];
      const markets = q.markets.map((m) => ({ exchange: m.exchange, symbol: m.symbol }));
      const rows = await run(() =>
        db.query(SELECT_UNVERIFIED, [
          JSON.stringify(markets),
          JSON.stringify(q.intervals),
          String(q.horizonMs),
          q.limit,
        ]),
      );
      return rows.map(candleFromRow);
    },

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
      return rows.map(storedCandleFromRow);
    },
  };
}
