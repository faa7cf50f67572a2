import { plainDecimal } from '../validate.js';
import {
  type AdapterOptions,
  type ConnectionPlan,
  chunk,
  type FrameSink,
  isObject,
  SymbolTable,
  type VenueAdapter,
} from '../venue.js';

const WS_URL = 'wss://ws.kraken.com/v2';
const SYMBOLS_PER_SUBSCRIBE = 100;

/**
 * Kraken WebSocket v2, `trade` channel. Kraken sends prices and quantities as JSON numbers; they
 * are read from the frame's source text (JSON.parse source access), never through a float, so
 * `0.10000000` stays exactly what Kraken printed. Trade ids are consecutive per pair. No REST
 * backfill: gaps are recorded.
 */
export function createKrakenAdapter(options: AdapterOptions): VenueAdapter {
  const venue = 'kraken';
  const table = new SymbolTable(venue, options.symbols);

  function plan(): ConnectionPlan[] {
    let reqId = 0;
    return [
      {
        url: options.wsUrl ?? WS_URL,
        symbols: table.symbols,
        subscribe: chunk(table.symbols, SYMBOLS_PER_SUBSCRIBE).map((symbol) =>
          JSON.stringify({
            method: 'subscribe',
            params: { channel: 'trade', symbol, snapshot: true },
            req_id: ++reqId,
          }),
        ),
        keepalive: { message: JSON.stringify({ method: 'ping' }), intervalMs: 30_000 },
        maxOutgoingPerSecond: 10,
      },
    ];
  }

  function parse(frame: string, receiveTime: number, out: FrameSink): void {
    let msg: unknown;
    try {
      msg = JSON.parse(frame, exactNumbers);
    } catch {
      msg = undefined;
    }
    if (!isObject(msg)) {
      out.reject('malformed-frame', 'frame is not a JSON object');
      return;
    }
    if (typeof msg.method === 'string') {
      if (msg.success === false) out.reject('venue-error', 'request failed');
      return;
    }
    const channel = msg.channel;
    if (channel === 'heartbeat' || channel === 'status') return;
    if (channel !== 'trade') {
      out.reject('unknown-message', 'channel is not one this adapter subscribed');
      return;
    }
    if (!Array.isArray(msg.data)) {
      out.reject('malformed-frame', 'trade message has no data');
      return;
    }
    for (const raw of msg.data) {
      if (!isObject(raw)) {
        out.reject('malformed-frame', 'trade is not an object');
        continue;
      }
      const symbol = raw.symbol;
      if (typeof symbol !== 'string') {
        out.reject('malformed-frame', 'trade has no symbol');
        continue;
      }
      const market = table.market(symbol);
      if (market === undefined) {
        out.reject('unknown-symbol', 'pair was not subscribed', symbol);
        continue;
      }
      const id = raw.trade_id;
      if (!(id instanceof ExactNumber) || !/^\d{1,15}$/.test(id.source)) {
        out.reject('bad-trade-id', 'trade_id is not an integer', symbol);
        continue;
      }
      if (!(raw.price instanceof ExactNumber)) {
        out.reject('bad-price', 'price is not a number', symbol);
        continue;
      }
      if (!(raw.qty instanceof ExactNumber)) {
        out.reject('bad-size', 'qty is not a number', symbol);
        continue;
      }
      const eventTime = typeof raw.timestamp === 'string' ? Date.parse(raw.timestamp) : Number.NaN;
      if (!Number.isFinite(eventTime)) {
        out.reject('bad-time', 'timestamp is not an RFC 3339 timestamp', symbol);
        continue;
      }
      if (raw.side !== 'buy' && raw.side !== 'sell') {
        out.reject('bad-side', 'side is neither buy nor sell', symbol);
        continue;
      }
      out.trade({
        exchange: venue,
        symbol,
        market,
        tradeId: id.source,
        price: plainDecimal(raw.price.source),
        size: plainDecimal(raw.qty.source),
        side: raw.side,
        eventTime,
        receiveTime,
      });
    }
  }

  return { venue, sequentialIds: true, plan, parse };
}

/** A JSON number kept as the text the venue sent. */
class ExactNumber {
  constructor(readonly source: string) {}
}

function exactNumbers(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === 'number' && context?.source !== undefined ? new ExactNumber(context.source) : value;
}
