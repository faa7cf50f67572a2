import type { Interval } from '../market/interval.js';
import { windowAfter, windowStart, windowsBetween } from '../market/interval.js';
import type { Store } from '../sink/store.js';
import { compareCandles, createTally, type GapWindow, type VerifyTally } from './compare.js';
import type { VenueConvention } from './conventions.js';
import type { VenueKline } from './kline.js';
import type { KlineSource } from './venue-klines.js';

/**
 * The historical check behind `tickmesh verify`: the stored closed candles of one market,
 * interval and open-time range against the venue's klines, one venue page at a time (the
 * stored candles of the same window read beside it), so memory stays at one page whatever the
 * range.
 */
export interface VerifierDeps {
  readonly store: Pick<Store, 'candles'>;
  readonly source: KlineSource;
  readonly convention: VenueConvention;
}

export interface VerifyRequest {
  readonly exchange: string;
  readonly symbol: string;
  readonly interval: Interval;
  /** Open times from (inclusive, aligned down) to (exclusive), Unix epoch ms. */
  readonly from: number;
  readonly to: number;
  readonly gaps?: readonly GapWindow[];
  readonly signal: AbortSignal;
  /** After each page: windows of the range done so far and in all. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface VerifyReport {
  readonly tally: VerifyTally;
  /** Stored candles compared. */
  readonly candles: number;
  /** Venue klines received in the range. */
  readonly klines: number;
  /** Venue klines with no stored candle (before the market's first trade, or never stored). */
  readonly klinesNotStored: number;
}

export async function verifyRange(deps: VerifierDeps, req: VerifyRequest): Promise<VerifyReport> {
  const tally = createTally();
  const start = windowStart(req.interval, req.from);
  const total = windowsBetween(req.interval, start, req.to);
  let candles = 0;
  let klines = 0;
  let klinesNotStored = 0;
  let first = start;
  // The candle before the range: the first window's open for a venue that opens at the previous close.
  let previous = deps.convention.opensAtPreviousClose
    ? (
        await deps.store.candles({
          exchange: req.exchange,
          symbol: req.symbol,
          interval: req.interval,
          from: windowAfter(req.interval, start, -1),
          to: start,
          limit: 1,
        })
      )[0]
    : undefined;
  for await (const page of deps.source.pages({
    symbol: req.symbol,
    interval: req.interval,
    from: start,
    to: req.to,
    signal: req.signal,
  })) {
    const end = Math.min(windowAfter(req.interval, first, deps.source.pageSize), req.to);
    const stored = await deps.store.candles({
      exchange: req.exchange,
      symbol: req.symbol,
      interval: req.interval,
      from: first,
      to: end,
      limit: deps.source.pageSize,
    });
    const byOpen = new Map<number, VenueKline>();
    for (const k of page) byOpen.set(k.openTime, k);
    klines += byOpen.size;
    const storedOpens = new Set(stored.map((c) => c.openTime));
    for (const t of byOpen.keys()) if (!storedOpens.has(t)) klinesNotStored++;
    previous = compareCandles(stored, byOpen, deps.convention, tally, req.gaps, previous) ?? previous;
    candles += stored.length;
    first = end;
    req.onProgress?.(windowsBetween(req.interval, start, end), total);
  }
  return { tally, candles, klines, klinesNotStored };
}
