import { INTERVALS, type Interval } from '../market/interval.js';
import type { VerificationCount, VerificationState } from '../sink/verification-store.js';

export type VerificationCounts = Record<VerificationState, number>;

export interface MarketVerification {
  readonly exchange: string;
  readonly symbol: string;
  readonly counts: VerificationCounts;
  readonly verifiedShare: number | null;
  readonly intervals: ReadonlyArray<{ interval: Interval; counts: VerificationCounts; verifiedShare: number | null }>;
}

const none = (): VerificationCounts => ({ verified: 0, mismatch: 0, unverifiable: 0, pending: 0 });

/**
 * The share of the judged candles that the venue agrees with; null when none is judged. Pending
 * candles (not judged yet) are left out, or every market would read below 100% for the candles
 * that just closed.
 */
export function verifiedShare(c: VerificationCounts): number | null {
  const judged = c.verified + c.mismatch + c.unverifiable;
  return judged === 0 ? null : c.verified / judged;
}

/** Counts by market, interval and status (ordered by market) as totals, per market and per interval. */
export function summarizeVerification(rows: readonly VerificationCount[]): {
  counts: VerificationCounts;
  verifiedShare: number | null;
  markets: MarketVerification[];
} {
  const total = none();
  const markets = new Map<
    string,
    { exchange: string; symbol: string; byInterval: Map<Interval, VerificationCounts> }
  >();
  for (const r of rows) {
    const key = `${r.exchange}\u0000${r.symbol}`;
    let m = markets.get(key);
    if (!m) {
      m = { exchange: r.exchange, symbol: r.symbol, byInterval: new Map() };
      markets.set(key, m);
    }
    let c = m.byInterval.get(r.interval);
    if (!c) {
      c = none();
      m.byInterval.set(r.interval, c);
    }
    c[r.status] += r.count;
    total[r.status] += r.count;
  }
  return {
    counts: total,
    verifiedShare: verifiedShare(total),
    markets: [...markets.values()].map(({ exchange, symbol, byInterval }) => {
      const counts = none();
      const ordered = [...byInterval].sort(([a], [b]) => INTERVALS.indexOf(a) - INTERVALS.indexOf(b));
      const intervals = ordered.map(([interval, c]) => {
        for (const s of Object.keys(c) as VerificationState[]) counts[s] += c[s];
        return { interval, counts: c, verifiedShare: verifiedShare(c) };
      });
      return { exchange, symbol, counts, verifiedShare: verifiedShare(counts), intervals };
    }),
  };
}
