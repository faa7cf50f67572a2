import {
  type AdapterOptions,
  type ConnectionPlan,
  chunk,
  type FrameSink,
  isObject,
  SymbolTable,
  tryParse,
  type VenueAdapter,
} from '../venue.js';

const WS_URL = 'wss://stream.bybit.com/v5/public/spot';
/** Bybit spot accepts at most 10 topics per subscribe request. */
const ARGS_PER_SUBSCRIBE = 10;

/**
 * Bybit v5 public spot `publicTrade.<symbol>`. Trade ids are not consecutive (and are UUIDs on
 * derivatives), so trades are deduplicated by id and gaps are not detected. `S` is the taker side.
 */
export function createBybitAdapter(options: AdapterOptions): VenueAdapter {
  const venue = 'bybit';
  const table = new SymbolTable(venue, options.symbols);

  function plan(): ConnectionPlan[] {
    return [
      {
        url: options.wsUrl ?? WS_URL,
        symbols: table.symbols,
        subscribe: chunk(table.symbols, ARGS_PER_SUBSCRIBE).map((symbols) =>
          JSON.stringify({ op: 'subscribe', args: symbols.map((s) => `publicTrade.${s}`) }),
        ),
        keepalive: { message: JSON.stringify({ op: 'ping' }), intervalMs: 20_000 },
        maxOutgoingPerSecond: 5,
      },
    ];
  }

  function parse(frame: string, receiveTime: number, out: FrameSink): void {
    const msg = tryParse(frame);
    if (!isObject(msg)) {
      out.reject('malformed-frame', 'frame is not a JSON object');
      return;
    }
    if (typeof msg.op === 'string') {
      if (msg.success === false) out.reject('venue-error', 'request failed');
      return;
    }
    if (typeof msg.topic !== 'string' || !msg.topic.startsWith('publicTrade.')) {
      out.reject('unknown-message', 'topic is not one this adapter subscribed');
      return;
    }
    if (!Array.isArray(msg.data)) {
      out.reject('malformed-frame', 'publicTrade message has no data');
      return;
    }
    for (const raw of msg.data) {
      if (!isObject(raw) || typeof raw.s !== 'string') {
        out.reject('malformed-frame', 'trade has no symbol');
        continue;
      }
      const symbol = raw.s;
      const market = table.market(symbol);
      if (market === undefined) {
        out.reject('unknown-symbol', 'symbol was not subscribed', symbol);
        continue;
      }
      if (typeof raw.i !== 'string' || raw.i.length === 0) {
        out.reject('bad-trade-id', 'trade id is not a string', symbol);
        continue;
      }
      if (typeof raw.p !== 'string') {
        out.reject('bad-price', 'price is not a string', symbol);
        continue;
      }
      if (typeof raw.v !== 'string') {
        out.reject('bad-size', 'size is not a string', symbol);
        continue;
      }
      if (typeof raw.T !== 'number') {
        out.reject('bad-time', 'trade time is not a number', symbol);
        continue;
      }
      if (raw.S !== 'Buy' && raw.S !== 'Sell') {
        out.reject('bad-side', 'side is neither Buy nor Sell', symbol);
        continue;
      }
      out.trade({
        exchange: venue,
        symbol,
        market,
        tradeId: raw.i,
        price: raw.p,
        size: raw.v,
        side: raw.S === 'Buy' ? 'buy' : 'sell',
        eventTime: raw.T,
        receiveTime,
      });
    }
  }

  return { venue, sequentialIds: false, plan, parse };
}
