import {
  type AdapterOptions,
  type ConnectionPlan,
  chunk,
  type FrameSink,
  isObject,
  SymbolTable,
  type VenueAdapter,
} from '../venue.js';

const WS_URL = 'wss://ws.okx.com:8443/ws/v5/public';
const ARGS_PER_SUBSCRIBE = 50;

/**
 * OKX v5 public `trades` channel (spot `BTC-USDT`, swaps `BTC-USDT-SWAP`). OKX may merge fills of
 * one taker order into one trade message, and its trade ids are not guaranteed consecutive, so
 * trades are deduplicated by id and gaps are not detected. Keepalive is the text `ping`.
 */
export function createOkxAdapter(options: AdapterOptions): VenueAdapter {
  const venue = 'okx';
  const table = new SymbolTable(venue, options.symbols);

  function plan(): ConnectionPlan[] {
    return [
      {
        url: options.wsUrl ?? WS_URL,
        symbols: table.symbols,
        subscribe: chunk(table.symbols, ARGS_PER_SUBSCRIBE).map((ids) =>
          JSON.stringify({ op: 'subscribe', args: ids.map((instId) => ({ channel: 'trades', instId })) }),
        ),
        keepalive: { message: 'ping', intervalMs: 20_000 },
        maxOutgoingPerSecond: 3,
      },
    ];
  }

  function parse(frame: string, receiveTime: number, out: FrameSink): void {
    if (frame === 'pong') return;
    let msg: unknown;
    try {
      msg = JSON.parse(frame);
    } catch {
      msg = undefined;
    }
    if (!isObject(msg)) {
      out.reject('malformed-frame', 'frame is not a JSON object');
      return;
    }
    if (typeof msg.event === 'string') {
      if (msg.event === 'error') out.reject('venue-error', 'venue sent an error');
      return;
    }
    if (!isObject(msg.arg) || msg.arg.channel !== 'trades') {
      out.reject('unknown-message', 'channel is not one this adapter subscribed');
      return;
    }
    if (!Array.isArray(msg.data)) {
      out.reject('malformed-frame', 'trades message has no data');
      return;
    }
    for (const raw of msg.data) {
      if (!isObject(raw) || typeof raw.instId !== 'string') {
        out.reject('malformed-frame', 'trade has no instId');
        continue;
      }
      const symbol = raw.instId;
      const market = table.market(symbol);
      if (market === undefined) {
        out.reject('unknown-symbol', 'instrument was not subscribed', symbol);
        continue;
      }
      if (typeof raw.tradeId !== 'string' || raw.tradeId.length === 0) {
        out.reject('bad-trade-id', 'tradeId is not a string', symbol);
        continue;
      }
      if (typeof raw.px !== 'string') {
        out.reject('bad-price', 'px is not a string', symbol);
        continue;
      }
      if (typeof raw.sz !== 'string') {
        out.reject('bad-size', 'sz is not a string', symbol);
        continue;
      }
      const eventTime = typeof raw.ts === 'string' && /^\d{1,15}$/.test(raw.ts) ? Number(raw.ts) : Number.NaN;
      if (!Number.isFinite(eventTime)) {
        out.reject('bad-time', 'ts is not epoch milliseconds', symbol);
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
        tradeId: raw.tradeId,
        price: raw.px,
        size: raw.sz,
        side: raw.side,
        eventTime,
        receiveTime,
      });
    }
  }

  return { venue, sequentialIds: false, plan, parse };
}
