import type { Trade } from '../../market/trade.js';
import { TickmeshError, UnavailableError } from '../../runtime/errors.js';
import { klineChannelIntervals } from '../../verify/kline-push.js';
import { KRAKEN_MINUTES } from '../../verify/venue-klines.js';
import { decimalNumber, ExactNumber, exactNumbers, idNumber } from '../exact-json.js';
import { getJson, joinUrl } from '../rest.js';
import { rfc3339, takerSide, text, tradeReader } from '../trade-reader.js';
import {
  type AdapterOptions,
  type BackfillRequest,
  type ConnectionPlan,
  chunk,
  emitKlines,
  isObject,
  type ParseOutput,
  SymbolTable,
  type VenueAdapter,
  venueKlineParser,
} from '../venue.js';

const WS_URL = 'wss://ws.kraken.com/v2';
const SYMBOLS_PER_SUBSCRIBE = 100;
const REST_URL = 'https://api.kraken.com';
const REST_PAGE = 1000;
const MAX_PAGES = 50;
/** Without the time of the last trade before a gap (after a restart), backfill looks back this far. */
const LOOKBACK_MS = 10 * 60_000;
/** Kraken's error codes that mean "try again later" (rate limit, overload, maintenance). */
const KRAKEN_BUSY = /^E(API:Rate limit|Service:(Unavailable|Busy|Deadline)|General:Temporary)/;

/**
 * Kraken WebSocket v2, `trade` channel. Kraken sends prices and quantities as JSON numbers; they
 * are read from the frame's source text (JSON.parse source access), never through a float, so
 * `0.10000000` stays exactly what Kraken printed. Trade ids are consecutive per pair.
 *
 * Backfill: REST `GET /0/public/Trades` pages forward by time (`since`, then each answer's
 * `last` cursor), not by id, so it starts at the event time of the last trade seen before the
 * gap (BackfillRequest.afterTime; without it, LOOKBACK_MS before the trade that revealed the
 * gap, and a longer outage is reported as unrecovered) and keeps the rows whose trade id (the
 * seventh field) falls in the gap. The REST pair is the v2 symbol without its slash (`BTC/USD`
 * -> `BTCUSD`), a spelling Kraken's REST accepts besides its own `XBTUSD`; the answer is keyed by
 * Kraken's internal name (`XXBTZUSD`), so the one array in `result` is read whatever its key.
 */
export function createKrakenAdapter(options: AdapterOptions): VenueAdapter {
  const venue = 'kraken';
  const table = new SymbolTable(venue, options.symbols);
  const restUrl = options.restUrl ?? REST_URL;
  const klineMinutes = klineChannelIntervals(venue, options.klineIntervals ?? []).map((i) => KRAKEN_MINUTES[i]);
  const klines = venueKlineParser(venue);
  const readTrade = tradeReader(venue, table, {
    symbol: { read: (t) => text(t.symbol), invalid: 'trade has no symbol' },
    unsubscribed: 'pair was not subscribed',
    tradeId: { read: (t) => idNumber(t.trade_id), invalid: 'trade_id is not an integer' },
    price: { read: (t) => decimalNumber(t.price), invalid: 'price is not a number' },
    size: { read: (t) => decimalNumber(t.qty), invalid: 'qty is not a number' },
    eventTime: { read: (t) => rfc3339(t.timestamp), invalid: 'timestamp is not an RFC 3339 timestamp' },
    side: { read: (t) => takerSide(t.side, 'buy', 'sell'), invalid: 'side is neither buy nor sell' },
  });

  function plan(): ConnectionPlan[] {
    let reqId = 0;
    return [
      {
        url: options.wsUrl ?? WS_URL,
        symbols: table.symbols,
        subscribe: chunk(table.symbols, SYMBOLS_PER_SUBSCRIBE).flatMap((symbol) => [
          JSON.stringify({
            method: 'subscribe',
            params: { channel: 'trade', symbol, snapshot: true },
            req_id: ++reqId,
          }),
          // `ohlc`, one subscription per interval, on the same connection; no snapshot of past candles.
          ...klineMinutes.map((interval) =>
            JSON.stringify({
              method: 'subscribe',
              params: { channel: 'ohlc', symbol, interval, snapshot: false },
              req_id: ++reqId,
            }),
          ),
        ]),
        keepalive: { message: JSON.stringify({ method: 'ping' }), intervalMs: 30_000 },
        maxOutgoingPerSecond: 10,
      },
    ];
  }

  function parse(frame: string, receiveTime: number, out: ParseOutput): void {
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
    if (channel === 'ohlc') {
      emitKlines(klines, frame, out);
      return;
    }
    if (channel !== 'trade') {
      out.reject('unknown-message', 'channel is not one this adapter subscribed');
      return;
    }
    if (!Array.isArray(msg.data)) {
      out.reject('malformed-frame', 'trade message has no data');
      return;
    }
    for (const raw of msg.data) {
      const t = readTrade(raw, receiveTime, out);
      if (t !== undefined) out.trade(t);
    }
  }

  async function backfill(req: BackfillRequest): Promise<Trade[]> {
    const market = table.market(req.symbol);
    if (market === undefined) return [];
    const pair = req.symbol.replace('/', '');
    const start = req.afterTime ?? req.beforeTime - LOOKBACK_MS;
    // `since` in nanoseconds; one millisecond early, since it is exclusive and times are truncated.
    let since = String(BigInt(Math.max(0, Math.floor(start) - 1)) * 1_000_000n);
    const trades: Trade[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const url = joinUrl(
        restUrl,
        `/0/public/Trades?pair=${encodeURIComponent(pair)}&since=${since}&count=${REST_PAGE}`,
      );
      const { body } = await getJson(url, { fetch: options.fetch, signal: req.signal, reviver: exactNumbers });
      const { rows, last } = readTradesAnswer(body);
      const receiveTime = Date.now();
      let highest = -1n;
      for (const row of rows) {
        const t = restTrade(row, req.symbol, market, receiveTime);
        if (t === undefined) continue;
        const id = BigInt(t.tradeId);
        if (id > highest) highest = id;
        if (id >= req.fromId && id <= req.toId) trades.push(t);
      }
      if (rows.length === 0 || highest >= req.toId || last === since) break;
      since = last;
    }
    return trades;
  }

  return { venue, sequentialIds: true, plan, parse, ...(restUrl ? { backfill } : {}) };
}

/** The rows and the `last` cursor of a Trades answer; Kraken's `error` list becomes an error. */
function readTradesAnswer(body: unknown): { rows: unknown[]; last: string } {
  if (!isObject(body)) throw new TickmeshError('TM_REST', 'kraken Trades answer is not an object');
  const errors = Array.isArray(body.error) ? body.error.filter((e): e is string => typeof e === 'string') : [];
  if (errors.length > 0) {
    const message = `kraken Trades answered ${errors.join(', ')}`;
    throw errors.some((e) => KRAKEN_BUSY.test(e))
      ? new UnavailableError(message)
      : new TickmeshError('TM_REST', message);
  }
  const result = body.result;
  if (!isObject(result) || typeof result.last !== 'string' || !/^\d+$/.test(result.last)) {
    throw new TickmeshError('TM_REST', 'kraken Trades answer has no result with a last cursor');
  }
  const arrays = Object.entries(result).filter(([k, v]) => k !== 'last' && Array.isArray(v));
  if (arrays.length !== 1) throw new TickmeshError('TM_REST', 'kraken Trades answer does not hold one pair');
  return { rows: arrays[0]?.[1] as unknown[], last: result.last };
}

/**
 * One REST row `[price, volume, time, side, orderType, misc, tradeId]` (numbers as ExactNumber);
 * undefined when it is not one (the processor checks the values like any other trade). Time is
 * seconds with a fraction: it is cut to milliseconds from its text, as the v2 feed's RFC 3339
 * timestamps are, so a backfilled trade carries the time the feed would have given it.
 */
function restTrade(row: unknown, symbol: string, market: string, receiveTime: number): Trade | undefined {
  if (!Array.isArray(row) || row.length < 7) return undefined;
  const [price, size, time, side, , , id] = row as unknown[];
  if (typeof price !== 'string' || typeof size !== 'string') return undefined;
  if (side !== 'b' && side !== 's') return undefined;
  if (!(id instanceof ExactNumber) || !/^\d{1,15}$/.test(id.source)) return undefined;
  const t = time instanceof ExactNumber ? /^(\d{1,12})(?:\.(\d+))?$/.exec(time.source) : null;
  if (!t) return undefined;
  return {
    exchange: 'kraken',
    symbol,
    market,
    tradeId: String(Number(id.source)),
    price,
    size,
    side: side === 'b' ? 'buy' : 'sell',
    eventTime: Number(t[1]) * 1000 + Number(`${t[2] ?? ''}000`.slice(0, 3)),
    receiveTime,
  };
}
