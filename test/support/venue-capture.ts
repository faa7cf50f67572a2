import { readFileSync } from 'node:fs';
import type { VenueAdapter } from '../../internal/ingest/venue.js';
import type { Trade } from '../../internal/market/trade.js';
import type { KlineRecord } from '../../internal/verify/kline-record.js';
import { sharedData } from '../harness/shared-data.js';

/**
 * A recorded capture of ../shared/data/venue-ws-captures (cryptofeed's `{"t":"recv","ts",..}`
 * lines) read as ingest reads it: every received frame through the venue's own adapter, trades
 * as trades and the candle channel's pushes (the adapter hands them to `kline`, parsed by
 * internal/verify/kline-push.ts) as `kline.v1` records, in the order received. A frame the
 * adapter rejects fails the read: the captures hold only trade and candle frames.
 */
export interface CapturedEvent {
  readonly receivedAt: number;
  /** The raw frame, for what a test needs beyond the trade (Binance's trade-id span `f`..`l`). */
  readonly frame: string;
  readonly trade?: Trade;
  readonly kline?: KlineRecord;
}

export function readCapture(
  file: string,
  exchange: string,
  adapter: VenueAdapter,
  /** Only the frames of connections whose URL this accepts (a capture may hold several). */
  connection: (url: string) => boolean = () => true,
): CapturedEvent[] {
  const urls = new Map<string, string>();
  const out: CapturedEvent[] = [];
  for (const line of readFileSync(sharedData('venue-ws-captures', file), 'utf8').split('\n')) {
    if (line === '') continue;
    const entry = JSON.parse(line) as { t: string; conn?: string; addr?: string; ts?: number; data?: string };
    if (entry.t === 'connect' && entry.conn !== undefined && entry.addr !== undefined) urls.set(entry.conn, entry.addr);
    if (entry.t !== 'recv' || entry.data === undefined || entry.conn === undefined) continue;
    if (!connection(urls.get(entry.conn) ?? '')) continue;
    const frame = entry.data;
    const receivedAt = Math.round((entry.ts ?? 0) * 1000);
    adapter.parse(frame, receivedAt, {
      trade: (trade) => out.push({ receivedAt, frame, trade }),
      kline: (p) => out.push({ receivedAt, frame, kline: { v: 1, exchange, receivedAt, ...p } }),
      reject: (reason, message) => {
        throw new Error(`${file}: frame rejected (${reason}: ${message})`);
      },
    });
  }
  return out;
}

export const tradesOf = (events: readonly CapturedEvent[]): Trade[] =>
  events.flatMap((e) => (e.trade === undefined ? [] : [e.trade]));
export const klinesOf = (events: readonly CapturedEvent[]): KlineRecord[] =>
  events.flatMap((e) => (e.kline === undefined ? [] : [e.kline]));

/** One window a capture covers completely, as far as the venue's last push of it in the capture. */
export interface CoveredWindow {
  readonly symbol: string;
  readonly openTime: number;
  /** The window's trades up to that push, in trade-id order. */
  readonly trades: Trade[];
  /** That push, marked final: the venue's push at the close, had no later trade come. */
  readonly final: KlineRecord;
}

/**
 * The 1m windows of a Binance capture (`@aggTrade` + `@kline_1m`) whose last push's trade ids
 * (`f`..`L`) the captured aggTrades (`f`..`l` each) cover without a hole. A window that began
 * before the capture qualifies too when its trades so far are all in it (ids tell).
 */
export function binanceCoveredWindows(events: readonly CapturedEvent[]): CoveredWindow[] {
  const spans: Array<{ trade: Trade; first: number; last: number }> = [];
  const last = new Map<string, { record: KlineRecord; first: number; last: number }>();
  for (const e of events) {
    const data = (JSON.parse(e.frame) as { data: Record<string, unknown> }).data;
    if (e.trade !== undefined) spans.push({ trade: e.trade, first: data.f as number, last: data.l as number });
    if (e.kline !== undefined && e.kline.interval === '1m') {
      const k = data.k as { f: number; L: number };
      last.set(`${e.kline.symbol}:${e.kline.kline.openTime}`, { record: e.kline, first: k.f, last: k.L });
    }
  }
  const out: CoveredWindow[] = [];
  for (const p of last.values()) {
    const mine = spans
      .filter((s) => s.trade.symbol === p.record.symbol && s.first >= p.first && s.last <= p.last)
      .sort((a, b) => a.first - b.first);
    const gapless = mine.every((s, i) => s.first === (i === 0 ? p.first : (mine[i - 1]?.last ?? 0) + 1));
    if (mine.length === 0 || !gapless || mine.at(-1)?.last !== p.last) continue;
    out.push({
      symbol: p.record.symbol,
      openTime: p.record.kline.openTime,
      trades: mine.map((s) => s.trade),
      final: { ...p.record, final: true },
    });
  }
  return out;
}
