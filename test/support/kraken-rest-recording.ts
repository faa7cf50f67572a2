import { readFileSync } from 'node:fs';
import { createKrakenAdapter } from '../../internal/ingest/venues/kraken.js';
import type { Trade } from '../../internal/market/trade.js';
import type { VenueKline } from '../../internal/verify/kline.js';
import { createRequestBudget } from '../../internal/verify/request-budget.js';
import { createKlineSource } from '../../internal/verify/venue-klines.js';

/**
 * The recorded Kraken REST answers of XBT/USDT of 2025-11-10 (test/fixtures/
 * kraken-xbtusdt-rest-2025-11-10, SOURCE.md), each read by tickmesh's own client from a fetch
 * that answers the recording: the Trades page through the Kraken adapter's backfill, the 1m OHLC
 * through `tickmesh verify`'s kline source.
 */
const FIXTURES = new URL('../fixtures/kraken-xbtusdt-rest-2025-11-10/', import.meta.url);
const MIN = 60_000;

/** The minutes the 1000 recorded trades cover whole: 17:24 up to (not including) 00:13. */
export const KRAKEN_FROM = Date.UTC(2025, 10, 10, 17, 24);
export const KRAKEN_TO = Date.UTC(2025, 10, 11, 0, 13);

/** A fetch answering every request with the recorded `file`, recording each URL. */
function answering(file: string): { fetch: typeof fetch; urls: URL[] } {
  const body = readFileSync(new URL(file, FIXTURES), 'utf8');
  const urls: URL[] = [];
  const f = async (input: string | URL | Request) => {
    urls.push(new URL(String(input)));
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { fetch: f as typeof fetch, urls };
}

/** The 1000 recorded trades (ids 10218208..10219207), as the `kraken` venue's backfill reads them. */
export async function krakenRecordedTrades(): Promise<{ trades: Trade[]; urls: URL[] }> {
  const f = answering('http_trades.json');
  const adapter = createKrakenAdapter({ symbols: ['BTC/USDT'], restUrl: 'http://kraken.test', fetch: f.fetch });
  const trades = await adapter.backfill?.({
    symbol: 'BTC/USDT',
    fromId: 10218208n,
    toId: 10219207n,
    afterTime: Date.UTC(2025, 10, 10, 17, 23, 53),
    beforeTime: KRAKEN_TO,
    signal: AbortSignal.timeout(10_000),
  });
  return { trades: trades ?? [], urls: f.urls };
}

/** The recorded 1m OHLC rows from `from` to `to` (exclusive), by open time. */
export async function krakenRecordedKlines(
  from = KRAKEN_FROM,
  to = KRAKEN_TO,
): Promise<{ klines: Map<number, VenueKline>; urls: URL[] }> {
  const f = answering('http_ohlc.json');
  const source = createKlineSource('kraken', {
    restUrl: 'http://kraken.test',
    fetch: f.fetch,
    budget: createRequestBudget(10),
  });
  if (source === undefined) throw new Error('no kraken kline source');
  const klines = new Map<number, VenueKline>();
  for await (const page of source.pages({
    symbol: 'BTC/USDT',
    interval: '1m',
    from,
    to,
    signal: AbortSignal.timeout(10_000),
  })) {
    for (const k of page) klines.set(k.openTime, k);
  }
  return { klines, urls: f.urls };
}

/** The recorded trades of the 1m windows from `from` to `to` (exclusive). */
export const inWindows = (trades: readonly Trade[], from: number, to: number = from + MIN): Trade[] =>
  trades.filter((t) => t.eventTime >= from && t.eventTime < to);
