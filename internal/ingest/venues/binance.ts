import { MAX_TRADE_COUNT } from '../../log/record.js';
import type { Trade } from '../../market/trade.js';
import { klineChannelIntervals } from '../../verify/kline-push.js';
import { getJson, joinUrl } from '../rest.js';
import { jsonNumber, takerSide, text, tradeReader } from '../trade-reader.js';
import {
  type AdapterOptions,
  type BackfillRequest,
  type ConnectionPlan,
  chunk,
  emitKlines,
  isObject,
  type ParseOutput,
  SymbolTable,
  tryParse,
  type VenueAdapter,
  venueKlineParser,
} from '../venue.js';
import { type CompactParser, type CompactShape, compactParser } from './compact-json.js';

export type BinanceMarket = 'spot' | 'usdm';
export type BinanceStream = 'trade' | 'aggTrade';

export interface BinanceOptions extends AdapterOptions {
  readonly market: BinanceMarket;
  /**
   * `trade`: every trade, ids `t`. `aggTrade`: trades aggregated per taker order and price,
   * ids `a` (a different id space: never mix the two for one market). Default `trade`.
   */
  readonly stream?: BinanceStream;
  /** Binance allows 1024 streams per connection; lower it to spread load. */
  readonly maxStreamsPerConnection?: number;
}

const DEFAULTS = {
  spot: { ws: 'wss://stream.binance.com:9443', rest: 'https://api.binance.com', api: '/api/v3' },
  usdm: { ws: 'wss://fstream.binance.com', rest: 'https://fapi.binance.com', api: '/fapi/v1' },
} as const;

/** Binance's limits per connection (docs: WebSocket Streams, "WebSocket Limits"). */
export const BINANCE_MAX_STREAMS = 1024;
/** The limit is 5 incoming messages/s (pings, pongs and JSON control messages); keep one for pongs. */
const OUTGOING_PER_SECOND = 4;
const STREAMS_PER_SUBSCRIBE = 200;
/** Binance disconnects every connection at 24 h; replace it ten minutes before. */
const LIFETIME_MS = 24 * 3600_000 - 10 * 60_000;
const REST_PAGE = 1000;

/** Events on Binance streams that are not trades: known, ignored without a reject. */
const NON_TRADE_EVENTS = new Set([
  'depthUpdate',
  'kline',
  'bookTicker',
  '24hrTicker',
  '24hrMiniTicker',
  'markPriceUpdate',
  'forceOrder',
  'continuous_kline',
  'indexPriceUpdate',
  'compositeIndex',
  'contractInfo',
  'assetIndexUpdate',
  '1hTicker',
  '4hTicker',
  '1dTicker',
  'avgPrice',
]);
const NON_TRADE_STREAMS = /@(depth|kline|bookTicker|ticker|miniTicker|markPrice|forceOrder|avgPrice|continuousKline)/;

/**
 * The trade events as Binance writes them, key by key, for the fast path of `parseFrame`. The
 * aggTrade shapes are those of the real captures in ../shared/data/binance-ws-captures; the spot
 * trade shape is the one Binance documents, the futures trade shape the one fstream sends. A frame
 * in another shape (a key added one day, a key order changed) is parsed by JSON.parse, to the same
 * value, only slower. The keys a trade never reads (event time, order type, best-match
 * flag) are matched but left out of the value, which saves building them (docs/BENCHMARKS.md).
 */
// biome-ignore format: one line per event, as Binance writes it
const TRADE_SHAPES: Record<BinanceMarket, Record<BinanceStream, CompactShape>> = {
  spot: {
    trade: { e: 'string', E: 'unread-integer', s: 'string', t: 'integer', p: 'string', q: 'string', T: 'integer', m: 'boolean', M: 'unread-boolean' },
    aggTrade: { e: 'string', E: 'unread-integer', s: 'string', a: 'integer', p: 'string', q: 'string', f: 'integer', l: 'integer', T: 'integer', m: 'boolean', M: 'unread-boolean' },
  },
  usdm: {
    trade: { e: 'string', E: 'unread-integer', T: 'integer', s: 'string', t: 'integer', p: 'string', q: 'string', X: 'unread-string', m: 'boolean' },
    aggTrade: { e: 'string', E: 'unread-integer', a: 'integer', s: 'string', p: 'string', q: 'string', f: 'integer', l: 'integer', T: 'integer', m: 'boolean' },
  },
};

/** The combined-stream frame of one of Binance's trade events, in the shape Binance sends it. */
export function tradeFrameParser(market: BinanceMarket, stream: BinanceStream): CompactParser {
  return compactParser({ stream: 'string', data: TRADE_SHAPES[market][stream] });
}

const WRAPPER_HEAD = '{"stream":"';
const WRAPPER_DATA = '","data":';

/**
 * JSON.parse(frame). A frame in the shape `fast` parses (a trade event, nearly every frame a
 * trade stream carries) takes that path, and comes without the keys that shape leaves unread.
 * Otherwise a combined-stream frame `{"stream":"<name>","data":<data>}` is parsed by handing
 * only <data> to JSON.parse: when the stream name has nothing to unescape and the frame ends with
 * the wrapper's brace, the whole is valid exactly when <data> is one JSON value, and parses to
 * `{ stream: name, data: JSON.parse(<data>) }`. Anything else, or <data> that does not parse
 * alone, goes to JSON.parse whole. The wrapper is about a sixth of a trade frame.
 */
export function parseFrame(frame: string, fast?: CompactParser): unknown {
  const shaped = fast?.parse(frame);
  if (shaped !== undefined) return shaped;
  if (frame.startsWith(WRAPPER_HEAD) && frame.charCodeAt(frame.length - 1) === 0x7d) {
    const end = frame.indexOf('"', WRAPPER_HEAD.length);
    if (end > 0 && frame.startsWith(WRAPPER_DATA, end)) {
      let plain = true;
      for (let i = WRAPPER_HEAD.length; i < end && plain; i++) {
        const c = frame.charCodeAt(i);
        plain = c >= 0x20 && c !== 0x5c; // no escape, no control character (invalid in JSON)
      }
      const data = plain ? tryParse(frame.slice(end + WRAPPER_DATA.length, -1)) : undefined;
      if (data !== undefined) return { stream: frame.slice(WRAPPER_HEAD.length, end), data };
    }
  }
  return tryParse(frame);
}

/** The combined-stream endpoint for a WebSocket base URL: `/stream` added unless it is there. */
export function combinedStreamUrl(base: string): string {
  const b = base.replace(/\/+$/, '');
  return b.endsWith('/stream') ? b : `${b}/stream`;
}

/**
 * The exchange trades an aggTrade stands for, from its first (`f`) and last (`l`) trade ids, as
 * the aggTrades files count them; undefined when they are not an increasing pair of integers.
 */
function aggCount(first: unknown, last: unknown): number | undefined {
  if (typeof first !== 'number' || typeof last !== 'number') return undefined;
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first < 0 || last < first) return undefined;
  const n = last - first + 1;
  return n <= MAX_TRADE_COUNT ? n : undefined;
}

/** A trade id written as a JSON number: a non-negative safe integer, as a decimal string. */
function idNumber(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : undefined;
}

/** Binance spot (`binance`) and USD-M futures (`binance-futures`) on combined streams. */
export function createBinanceAdapter(options: BinanceOptions): VenueAdapter {
  const d = DEFAULTS[options.market];
  const venue = options.market === 'spot' ? 'binance' : 'binance-futures';
  const stream: BinanceStream = options.stream ?? 'trade';
  const table = new SymbolTable(venue, options.symbols);
  const wsUrl = combinedStreamUrl(options.wsUrl ?? d.ws);
  const restUrl = options.restUrl ?? d.rest;
  const streamsLimit = Math.min(options.maxStreamsPerConnection ?? BINANCE_MAX_STREAMS, BINANCE_MAX_STREAMS);
  // `<symbol>@kline_<interval>` beside each trade stream, on the same connection.
  const klineIntervals = klineChannelIntervals(venue, options.klineIntervals ?? []);
  const klines = venueKlineParser(venue);
  const perConnection = Math.max(1, Math.floor(streamsLimit / (1 + klineIntervals.length)));
  const tradeFrame = tradeFrameParser(options.market, stream);
  const readTrade = tradeReader(venue, table, {
    symbol: { read: (t) => text(t.s), invalid: 'trade has no symbol' },
    unsubscribed: 'symbol was not subscribed',
    tradeId: {
      read: stream === 'trade' ? (t) => idNumber(t.t) : (t) => idNumber(t.a),
      invalid: 'trade id is not a non-negative integer',
    },
    tradeCount:
      stream === 'aggTrade'
        ? {
            read: (t) => aggCount(t.f, t.l),
            invalid: 'aggTrade first/last trade ids are not an increasing pair of integers',
          }
        : undefined,
    price: { read: (t) => text(t.p), invalid: 'price is not a string' },
    size: { read: (t) => text(t.q), invalid: 'size is not a string' },
    eventTime: { read: (t) => jsonNumber(t.T), invalid: 'trade time is not a number' },
    // The buyer was the maker (m true), so the taker sold.
    side: { read: (t) => takerSide(t.m, false, true), invalid: 'buyer-is-maker flag is not a boolean' },
  });

  function plan(): ConnectionPlan[] {
    let id = 0;
    return chunk(table.symbols, perConnection).map((symbols) => ({
      url: wsUrl,
      symbols,
      subscribe: chunk(
        symbols.flatMap((s) => [
          `${s.toLowerCase()}@${stream}`,
          ...klineIntervals.map((i) => `${s.toLowerCase()}@kline_${i}`),
        ]),
        STREAMS_PER_SUBSCRIBE,
      ).map((params) => JSON.stringify({ method: 'SUBSCRIBE', params, id: ++id })),
      maxOutgoingPerSecond: OUTGOING_PER_SECOND,
      maxLifetimeMs: LIFETIME_MS,
    }));
  }

  function parse(frame: string, receiveTime: number, out: ParseOutput): void {
    const msg = parseFrame(frame, tradeFrame);
    if (!isObject(msg)) {
      out.reject('malformed-frame', 'frame is not a JSON object');
      return;
    }
    let data: unknown = msg;
    let streamName = '';
    if (typeof msg.stream === 'string') {
      streamName = msg.stream;
      data = msg.data;
    } else if ('id' in msg && ('result' in msg || 'error' in msg)) {
      if (msg.error !== undefined && msg.error !== null) out.reject('venue-error', 'subscription request failed');
      return;
    } else if ('code' in msg && 'msg' in msg) {
      out.reject('venue-error', 'venue sent an error');
      return;
    }
    if (!isObject(data)) {
      out.reject('malformed-frame', 'stream message has no data object');
      return;
    }
    const e = data.e;
    if (e === stream) {
      const t = readTrade(data, receiveTime, out);
      if (t !== undefined) out.trade(t);
      return;
    }
    if (e === 'kline') {
      emitKlines(klines, frame, out);
      return;
    }
    if (e === 'trade' || e === 'aggTrade') return; // the other id space: not subscribed by this adapter
    if ((typeof e === 'string' && NON_TRADE_EVENTS.has(e)) || NON_TRADE_STREAMS.test(streamName)) return;
    out.reject('unknown-message', 'event type is not one Binance streams send');
  }

  async function backfill(req: BackfillRequest): Promise<Trade[]> {
    const market = table.market(req.symbol);
    if (market === undefined) return [];
    const path = stream === 'trade' ? `${d.api}/historicalTrades` : `${d.api}/aggTrades`;
    const headers = options.apiKey ? { 'X-MBX-APIKEY': options.apiKey } : undefined;
    const trades: Trade[] = [];
    let from = req.fromId;
    while (from <= req.toId) {
      const want = req.toId - from + 1n;
      const limit = want < BigInt(REST_PAGE) ? Number(want) : REST_PAGE;
      const url = joinUrl(restUrl, `${path}?symbol=${encodeURIComponent(req.symbol)}&fromId=${from}&limit=${limit}`);
      const { body } = await getJson(url, { fetch: options.fetch, signal: req.signal, headers });
      if (!Array.isArray(body) || body.length === 0) break;
      const receiveTime = Date.now();
      let last = from - 1n;
      for (const row of body) {
        const t = isObject(row) ? restTrade(row, req.symbol, market, receiveTime) : undefined;
        if (!t) continue;
        const id = BigInt(t.tradeId);
        if (id < from || id > req.toId) continue;
        trades.push(t);
        if (id > last) last = id;
      }
      if (last < from) break;
      from = last + 1n;
    }
    return trades;
  }

  function restTrade(row: Record<string, unknown>, symbol: string, market: string, receiveTime: number) {
    const id = stream === 'trade' ? row.id : row.a;
    const price = stream === 'trade' ? row.price : row.p;
    const size = stream === 'trade' ? row.qty : row.q;
    const time = stream === 'trade' ? row.time : row.T;
    const maker = stream === 'trade' ? row.isBuyerMaker : row.m;
    if (typeof id !== 'number' || typeof price !== 'string' || typeof size !== 'string') return undefined;
    if (typeof time !== 'number' || typeof maker !== 'boolean') return undefined;
    const count = stream === 'trade' ? 1 : aggCount(row.f, row.l);
    if (count === undefined) return undefined;
    const t: Trade = {
      exchange: venue,
      symbol,
      market,
      tradeId: String(id),
      price,
      size,
      side: maker ? 'sell' : 'buy',
      eventTime: time,
      receiveTime,
      ...(stream === 'trade' ? {} : { tradeCount: count }),
    };
    return t;
  }

  return {
    venue,
    sequentialIds: true,
    plan,
    parse,
    ...(restUrl ? { backfill } : {}),
  };
}
