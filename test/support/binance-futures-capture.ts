import { createBinanceAdapter } from '../../internal/ingest/venues/binance.js';
import type { Trade } from '../../internal/market/trade.js';
import type { KlineRecord } from '../../internal/verify/kline-record.js';
import { binanceCoveredWindows, type CapturedEvent, klinesOf, readCapture, tradesOf } from './venue-capture.js';

/**
 * The Binance USD-M capture of ../shared/data/venue-ws-captures (31 s of `@aggTrade` and
 * `@kline_1m` across 22:26:00 UTC on 2021-07-22), read as ingest would: the aggTrades as
 * trades, the kline pushes as `kline.v1` records. The capture ends 11 s into the minute 22:26,
 * so no push of that minute is final; the minute is complete up to its last push's trade id
 * (the pushes carry the ids of their first and last trade, `f` and `L`): `completeMinutes()`
 * gives the trades of the minute up to it and that push marked final, as Binance's push at the
 * close would read had no later trade come.
 */
export const EXCHANGE = 'binance-futures';
/** 2021-07-22 22:26:00 UTC: the minute that began inside the capture. */
export const MINUTE = 1_626_992_760_000;

function read(): CapturedEvent[] {
  const adapter = createBinanceAdapter({
    market: 'usdm',
    stream: 'aggTrade',
    symbols: ['SUSHIUSDT', 'AKROUSDT', 'KEEPUSDT', 'CTKUSDT'],
    restUrl: '',
  });
  return readCapture('binance_futures_aggTrade_kline.jsonl', EXCHANGE, adapter);
}

/** Every aggTrade of the capture as a trade and every kline push as a record, in receive order. */
export function binanceFuturesCapture(): { trades: Trade[]; klines: KlineRecord[] } {
  const events = read();
  return { trades: tradesOf(events), klines: klinesOf(events) };
}

/**
 * The minute 22:26 of each symbol whose captured aggTrades cover its last push's trade ids
 * without a hole (AKROUSDT misses one): its trades up to that push, and the push, final.
 */
export function completeMinutes(): Array<{ symbol: string; trades: Trade[]; final: KlineRecord }> {
  return binanceCoveredWindows(read()).filter((w) => w.openTime === MINUTE);
}
