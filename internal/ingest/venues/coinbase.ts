import type { Trade } from '../../market/trade.js';
import { getJson, joinUrl, pageBackwards } from '../rest.js';
import {
  type AdapterOptions,
  type BackfillRequest,
  type ConnectionPlan,
  isObject,
  type ParseOutput,
  SymbolTable,
  tryParse,
  type VenueAdapter,
} from '../venue.js';

const WS_URL = 'wss://advanced-trade-ws.coinbase.com';
/** Backfill pages through the Exchange API, the one Coinbase REST API that pages trades by id. */
const REST_URL = 'https://api.exchange.coinbase.com';
const REST_PAGE = 1000;
const MAX_PAGES = 100;

interface RawTrade {
  readonly id: number;
  readonly t: Trade;
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

  function plan(): ConnectionPlan[] {
    const product_ids = table.symbols;
    return [
      {
        url: options.wsUrl ?? WS_URL,
        symbols: product_ids,
        subscribe: [
          JSON.stringify({ type: 'subscribe', product_ids, channel: 'market_trades' }),
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
      const batch: RawTrade[] = [];
      for (const raw of ev.trades) {
        const t = isObject(raw) ? trade(raw, receiveTime, out) : undefined;
        if (t) batch.push(t);
        else if (!isObject(raw)) out.reject('malformed-frame', 'trade is not an object');
      }
      batch.sort((a, b) => a.id - b.id);
      for (const b of batch) out.trade(b.t);
    }
  }

  function trade(raw: Record<string, unknown>, receiveTime: number, out: ParseOutput): RawTrade | undefined {
    const symbol = raw.product_id;
    if (typeof symbol !== 'string') {
      out.reject('malformed-frame', 'trade has no product_id');
      return undefined;
    }
    const market = table.market(symbol);
    if (market === undefined) {
      out.reject('unknown-symbol', 'product was not subscribed', symbol);
      return undefined;
    }
    const idText = raw.trade_id;
    const id = typeof idText === 'string' && /^\d{1,15}$/.test(idText) ? Number(idText) : Number.NaN;
    if (!Number.isSafeInteger(id)) {
      out.reject('bad-trade-id', 'trade_id is not an integer string', symbol);
      return undefined;
    }
    if (typeof raw.price !== 'string') {
      out.reject('bad-price', 'price is not a string', symbol);
      return undefined;
    }
    if (typeof raw.size !== 'string') {
      out.reject('bad-size', 'size is not a string', symbol);
      return undefined;
    }
    const eventTime = typeof raw.time === 'string' ? Date.parse(raw.time) : Number.NaN;
    if (!Number.isFinite(eventTime)) {
      out.reject('bad-time', 'time is not an RFC 3339 timestamp', symbol);
      return undefined;
    }
    const makerSide = raw.side;
    if (makerSide !== 'BUY' && makerSide !== 'SELL') {
      out.reject('bad-side', 'side is neither BUY nor SELL', symbol);
      return undefined;
    }
    return {
      id,
      t: {
        exchange: venue,
        symbol,
        market,
        tradeId: String(id),
        price: raw.price,
        size: raw.size,
        side: makerSide === 'BUY' ? 'sell' : 'buy',
        eventTime,
        receiveTime,
      },
    };
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
