import type { Trade } from '../../market/trade.js';
import { TickmeshError, UnavailableError } from '../../runtime/errors.js';
import { klineChannelIntervals } from '../../verify/kline-push.js';
import { BYBIT_INTERVALS } from '../../verify/venue-klines.js';
import { getJson, joinUrl } from '../rest.js';
import { epochMsText, jsonNumber, nonEmptyText, SKIP_REJECTS, takerSide, text, tradeReader } from '../trade-reader.js';
import {
  type AdapterOptions,
  type ConnectionPlan,
  chunk,
  emitKlines,
  isObject,
  type ParseOutput,
  type RecentRequest,
  type RecentTrades,
  SymbolTable,
  tryParse,
  type VenueAdapter,
  venueKlineParser,
} from '../venue.js';

/** Bybit's product categories with a public trade stream tickmesh reads, each its own venue. */
export type BybitCategory = 'spot' | 'linear';

export interface BybitOptions extends AdapterOptions {
  readonly category: BybitCategory;
}

const VENUE: Record<BybitCategory, string> = { spot: 'bybit', linear: 'bybit-linear' };
const WS_URL: Record<BybitCategory, string> = {
  spot: 'wss://stream.bybit.com/v5/public/spot',
  linear: 'wss://stream.bybit.com/v5/public/linear',
};
/** Bybit spot accepts at most 10 topics per subscribe request; linear is held to the same. */
const ARGS_PER_SUBSCRIBE = 10;
const REST_URL = 'https://api.bybit.com';
/** The most recent-trade gives: 60 on spot, 1,000 on linear. */
const RECENT_LIMIT: Record<BybitCategory, number> = { spot: 60, linear: 1000 };
/** Bybit's codes for "try again later": too many visits, server timeout or error. */
const BYBIT_BUSY = new Set([10000, 10006, 10016, 10018]);

/**
 * Bybit v5 public `publicTrade.<symbol>`: spot (`bybit`) and USDT/USDC perpetuals and futures
 * (`bybit-linear`, category linear, symbols like `BTCUSDT`), each on its own endpoint, as Binance
 * spot and USD-M are separate venues. `S` is the taker side.
 *
 * No gap can be told from the ids (the recorded frames in shared/data/venue-ws-captures, 2026):
 * linear trade ids are UUIDs; spot ids are decimal strings past 2^53 that skip values within one
 * symbol with nothing missing (ETHUSDT ...417, 420, 421, 443: the kline volumes of the same
 * capture add up without trades between them); and `seq`, on both, is shared by the fills of one
 * taker order and jumps by thousands between orders. Trades are deduplicated by id.
 *
 * What a lost connection missed is looked for in REST `GET /v5/market/recent-trade` (the last
 * 1,000 trades on linear, 60 on spot; `execId` is the stream's `i`): VenueAdapter.recent. Beyond
 * that window Bybit keeps no public trade history, so a longer outage is recorded as a `partial`
 * gap with its time window.
 */
export function createBybitAdapter(options: BybitOptions): VenueAdapter {
  const venue = VENUE[options.category];
  const table = new SymbolTable(venue, options.symbols);
  const restUrl = options.restUrl ?? REST_URL;
  const limit = RECENT_LIMIT[options.category];
  const klineCodes = klineChannelIntervals(venue, options.klineIntervals ?? []).map((i) => BYBIT_INTERVALS[i]);
  const klines = venueKlineParser(venue);
  const readTrade = tradeReader(venue, table, {
    symbol: { read: (t) => text(t.s), invalid: 'trade has no symbol' },
    unsubscribed: 'symbol was not subscribed',
    tradeId: { read: (t) => nonEmptyText(t.i), invalid: 'trade id is not a string' },
    price: { read: (t) => text(t.p), invalid: 'price is not a string' },
    size: { read: (t) => text(t.v), invalid: 'size is not a string' },
    eventTime: { read: (t) => jsonNumber(t.T), invalid: 'trade time is not a number' },
    side: { read: (t) => takerSide(t.S, 'Buy', 'Sell'), invalid: 'side is neither Buy nor Sell' },
  });
  /** A recent-trade row: `execId` is the stream's `i`, `time` epoch ms as a string. */
  const readRow = tradeReader(venue, table, {
    symbol: { read: (t) => text(t.symbol), invalid: 'row has no symbol' },
    unsubscribed: 'symbol was not subscribed',
    tradeId: { read: (t) => nonEmptyText(t.execId), invalid: 'execId is not a string' },
    price: { read: (t) => text(t.price), invalid: 'price is not a string' },
    size: { read: (t) => text(t.size), invalid: 'size is not a string' },
    eventTime: { read: (t) => epochMsText(t.time), invalid: 'time is not epoch milliseconds' },
    side: { read: (t) => takerSide(t.side, 'Buy', 'Sell'), invalid: 'side is neither Buy nor Sell' },
  });

  function plan(): ConnectionPlan[] {
    return [
      {
        url: options.wsUrl ?? WS_URL[options.category],
        symbols: table.symbols,
        // `kline.<interval>.<symbol>` beside each trade topic, on the same connection.
        subscribe: chunk(
          table.symbols.flatMap((s) => [`publicTrade.${s}`, ...klineCodes.map((code) => `kline.${code}.${s}`)]),
          ARGS_PER_SUBSCRIBE,
        ).map((args) => JSON.stringify({ op: 'subscribe', args })),
        keepalive: { message: JSON.stringify({ op: 'ping' }), intervalMs: 20_000 },
        maxOutgoingPerSecond: 5,
      },
    ];
  }

  function parse(frame: string, receiveTime: number, out: ParseOutput): void {
    const msg = tryParse(frame);
    if (!isObject(msg)) {
      out.reject('malformed-frame', 'frame is not a JSON object');
      return;
    }
    if (typeof msg.op === 'string') {
      if (msg.success === false) out.reject('venue-error', 'request failed');
      return;
    }
    if (typeof msg.topic === 'string' && msg.topic.startsWith('kline.')) {
      emitKlines(klines, frame, out);
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
      const t = readTrade(raw, receiveTime, out);
      if (t !== undefined) out.trade(t);
    }
  }

  async function recent(req: RecentRequest): Promise<RecentTrades> {
    const market = table.market(req.symbol);
    if (market === undefined) return { trades: [], full: false };
    const url = joinUrl(
      restUrl,
      `/v5/market/recent-trade?category=${options.category}&symbol=${encodeURIComponent(req.symbol)}&limit=${limit}`,
    );
    const { body } = await getJson(url, { fetch: options.fetch, signal: req.signal });
    const rows = readAnswer(body);
    const receiveTime = Date.now();
    const trades: Trade[] = [];
    // Newest first in the answer: read backwards for the venue's order.
    for (let i = rows.length - 1; i >= 0; i--) {
      const t = readRow(rows[i], receiveTime, SKIP_REJECTS);
      if (t !== undefined && t.symbol === req.symbol) trades.push(t);
    }
    return { trades, full: rows.length >= limit };
  }

  return { venue, sequentialIds: false, plan, parse, ...(restUrl ? { recent } : {}) };
}

/** The list of a Bybit v5 answer `{"retCode":0,"result":{"list":[...]}}`; another retCode becomes an error. */
function readAnswer(body: unknown): unknown[] {
  if (!isObject(body)) throw new TickmeshError('TM_REST', 'bybit answer is not an object');
  if (body.retCode !== 0) {
    const message = `bybit answered retCode ${String(body.retCode)}: ${String(body.retMsg ?? '')}`;
    throw BYBIT_BUSY.has(Number(body.retCode)) ? new UnavailableError(message) : new TickmeshError('TM_REST', message);
  }
  const result = body.result;
  if (!isObject(result) || !Array.isArray(result.list))
    throw new TickmeshError('TM_REST', 'bybit answer has no result list');
  return result.list;
}
