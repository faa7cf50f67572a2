import type { Trade } from '../../market/trade.js';
import { klineChannelIntervals } from '../../verify/kline-push.js';
import { getJson, joinUrl, pageBackwards } from '../rest.js';
import { digits, rfc3339, takerSide, text, tradeReader } from '../trade-reader.js';
import {
  type AdapterOptions,
  type BackfillRequest,
  type ConnectionPlan,
  emitKlines,
  isObject,
  type ParseOutput,
  SymbolTable,
  tryParse,
  type VenueAdapter,
  venueKlineParser,
} from '../venue.js';

const WS_URL = 'wss://advanced-trade-ws.coinbase.com';
/** Backfill pages through the Exchange API, the one Coinbase REST API that pages trades by id. */
const REST_URL = 'https://api.exchange.coinbase.com';
const REST_PAGE = 1000;
const MAX_PAGES = 100;

/** A trade id of 1 to 15 digits, leading zeros dropped. */
function integerText(v: unknown): string | undefined {
  const d = digits(v);
  return d === undefined ? undefined : String(Number(d));
}

/**
 * Coinbase Advanced Trade, `market_trades` channel (plus `heartbeats`, which keeps a quiet
 * connection from being closed and the feed's staleness check honest). Trade ids are consecutive
 * per product. Public channels need no authentication.
 *
 * Side: Coinbase reports the maker's side, as its Exchange feed always has; the taker's side is
 * the opposite.
 */
export function createCoinbaseAdapter(options: AdapterOptions): VenueAdapter {
  const venue = 'coinbase';
  const table = new SymbolTable(venue, options.symbols);
  const restUrl = options.restUrl ?? REST_URL;
  // The `candles` channel pushes 5-minute candles only: subscribed when 5m is asked for.
  const withCandles = klineChannelIntervals(venue, options.klineIntervals ?? []).length > 0;
  const klines = venueKlineParser(venue);
  const readTrade = tradeReader(venue, table, {
    symbol: { read: (t) => text(t.product_id), invalid: 'trade has no product_id' },
    unsubscribed: 'product was not subscribed',
    tradeId: { read: (t) => integerText(t.trade_id), invalid: 'trade_id is not an integer string' },
    price: { read: (t) => text(t.price), invalid: 'price is not a string' },
    size: { read: (t) => text(t.size), invalid: 'size is not a string' },
    eventTime: { read: (t) => rfc3339(t.time), invalid: 'time is not an RFC 3339 timestamp' },
    // The maker's side: the taker took the other one.
    side: { read: (t) => takerSide(t.side, 'SELL', 'BUY'), invalid: 'side is neither BUY nor SELL' },
  });

  function plan(): ConnectionPlan[] {
    const product_ids = table.symbols;
    return [
      {
        url: options.wsUrl ?? WS_URL,
        symbols: product_ids,
        subscribe: [
          JSON.stringify({ type: 'subscribe', product_ids, channel: 'market_trades' }),
          ...(withCandles ? [JSON.stringify({ type: 'subscribe', product_ids, channel: 'candles' })] : []),
          JSON.stringify({ type: 'subscribe', product_ids, channel: 'heartbeats' }),
        ],
        maxOutgoingPerSecond: 8,
      },
    ];
  }

  function parse(frame: string, receiveTime: number, out: ParseOutput): void {
    const msg = tryParse(frame);
    if (!isObject(msg)) {
      out.reject('malformed-frame', 'frame is not a JSON object');
      return;
    }
    if (msg.type === 'error') {
      out.reject('venue-error', 'venue sent an error');
      return;
    }
    const channel = msg.channel;
    if (channel === 'heartbeats' || channel === 'subscriptions') return;
    if (channel === 'candles') {
      emitKlines(klines, frame, out);
      return;
    }
    if (channel !== 'market_trades') {
      out.reject('unknown-message', 'channel is not one this adapter subscribed');
      return;
    }
    if (!Array.isArray(msg.events)) {
      out.reject('malformed-frame', 'market_trades message has no events');
      return;
    }
    for (const ev of msg.events) {
      if (!isObject(ev) || !Array.isArray(ev.trades)) {
        out.reject('malformed-frame', 'market_trades event has no trades');
        continue;
      }
      // Coinbase lists an event's trades newest first; the log wants them in id order.
      const batch: Trade[] = [];
      for (const raw of ev.trades) {
        const t = readTrade(raw, receiveTime, out);
        if (t !== undefined) batch.push(t);
      }
      batch.sort((a, b) => Number(a.tradeId) - Number(b.tradeId));
      for (const t of batch) out.trade(t);
    }
  }

  /** Pages backwards from toId: `after=X` answers trades with ids below X, newest first. */
  async function backfill(req: BackfillRequest): Promise<Trade[]> {
    const market = table.market(req.symbol);
    if (market === undefined) return [];
    return pageBackwards(req.fromId, req.toId, MAX_PAGES, async (after) => {
      const url = joinUrl(
        restUrl,
        `/products/${encodeURIComponent(req.symbol)}/trades?after=${after}&limit=${REST_PAGE}`,
      );
      const { body } = await getJson(url, { fetch: options.fetch, signal: req.signal });
      if (!Array.isArray(body)) return [];
      const receiveTime = Date.now();
      const rows: Array<[bigint, Trade | undefined]> = [];
      for (const row of body) {
        if (!isObject(row) || typeof row.trade_id !== 'number') continue;
        const ok =
          typeof row.price === 'string' &&
          typeof row.size === 'string' &&
          typeof row.time === 'string' &&
          (row.side === 'buy' || row.side === 'sell');
        rows.push([
          BigInt(row.trade_id),
          ok
            ? {
                exchange: venue,
                symbol: req.symbol,
                market,
                tradeId: String(row.trade_id),
                price: row.price as string,
                size: row.size as string,
                // The Exchange API's side is the maker's too.
                side: row.side === 'buy' ? 'sell' : 'buy',
                eventTime: Date.parse(row.time as string),
                receiveTime,
              }
            : undefined,
        ]);
      }
      return rows;
    });
  }

  return { venue, sequentialIds: true, plan, parse, ...(restUrl ? { backfill } : {}) };
}
