import { MAX_TRADE_COUNT } from '../../log/record.js';
import { isOkxDerivative } from '../../market/markets.js';
import type { Trade } from '../../market/trade.js';
import { klineChannelIntervals } from '../../verify/kline-push.js';
import { OKX_BARS } from '../../verify/venue-klines.js';
import { getJson, joinUrl, pageBackwards } from '../rest.js';
import { digits, epochMsText, type RawTrade, SKIP_REJECTS, takerSide, text, tradeReader } from '../trade-reader.js';
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
import { contractsToBase, okxContractValues } from './okx-contracts.js';
import { readAnswer } from './okx-rest.js';

const WS_URL = 'wss://ws.okx.com:8443/ws/v5/public';
/**
 * Candles are served on the business endpoint since 2023-06-20 (OKX, "Changes to V5 API
 * WebSocket subscription parameter and URL"): the public one refuses `candle*` subscriptions.
 */
const BUSINESS_PATH = '/ws/v5/business';
const REST_URL = 'https://www.okx.com';
const ARGS_PER_SUBSCRIBE = 50;
/** history-trades answers at most 100 rows a request. */
const REST_PAGE = 100;
/** 10,000 trades a gap at most; older missing trades are reported as unrecovered. */
const MAX_PAGES = 100;

/**
 * OKX v5 public `trades` channel (spot `BTC-USDT`, swaps `BTC-USDT-SWAP`, futures
 * `BTC-USD-220527`). Trade ids are integers that follow each other per instrument; the channel
 * sends one message per taker order, price and source, whose `tradeId` is the LAST of `count`
 * consecutive ids (count 3 and id 123: trades 121, 122, 123). So the trade's `tradeCount` is
 * `count`, and a gap is a first id (`tradeId - count + 1`) beyond the one after the last seen
 * (VenueAdapter.idSpansTradeCount). Keepalive is the text `ping`. A swap's or future's `sz`
 * counts contracts: it is multiplied by the contract value read in prepare() (okx-contracts.ts).
 *
 * Backfill: REST `GET /api/v5/market/history-trades?instId=&type=1&after=<id>&limit=100` gives
 * the trades (one row a trade, never aggregated) with ids below `after`, newest first; it pages
 * backwards from the gap's end until the gap's first id (at most MAX_PAGES pages; OKX keeps
 * three months).
 */
export function createOkxAdapter(options: AdapterOptions): VenueAdapter {
  const venue = 'okx';
  const table = new SymbolTable(venue, options.symbols);
  const restUrl = options.restUrl ?? REST_URL;
  const klineChannels = klineChannelIntervals(venue, options.klineIntervals ?? []).map((i) => `candle${OKX_BARS[i]}`);
  const klines = venueKlineParser(venue);
  let contractValues = new Map<string, string>();
  const readTrade = tradeReader(venue, table, {
    symbol: { read: (t) => text(t.instId), invalid: 'trade has no instId' },
    unsubscribed: 'instrument was not subscribed',
    tradeId: { read: (t) => digits(t.tradeId), invalid: 'tradeId is not an integer string' },
    tradeCount: { read: tradeCount, invalid: 'count is not a number of trades that fits the trade id' },
    price: { read: (t) => text(t.px), invalid: 'px is not a string' },
    size: { read: (t) => text(t.sz), invalid: 'sz is not a string' },
    eventTime: { read: (t) => epochMsText(t.ts), invalid: 'ts is not epoch milliseconds' },
    side: { read: (t) => takerSide(t.side, 'buy', 'sell'), invalid: 'side is neither buy nor sell' },
  });

  function plan(): ConnectionPlan[] {
    const url = options.wsUrl ?? WS_URL;
    const trades: ConnectionPlan = {
      url,
      symbols: table.symbols,
      subscribe: chunk(table.symbols, ARGS_PER_SUBSCRIBE).map((ids) =>
        JSON.stringify({ op: 'subscribe', args: ids.map((instId) => ({ channel: 'trades', instId })) }),
      ),
      keepalive: { message: 'ping', intervalMs: 20_000 },
      maxOutgoingPerSecond: 3,
    };
    if (klineChannels.length === 0) return [trades];
    // The candle channels: a second session of the same feed base, on the business endpoint.
    const args = table.symbols.flatMap((instId) => klineChannels.map((channel) => ({ channel, instId })));
    return [
      trades,
      {
        ...trades,
        url: businessUrl(url),
        subscribe: chunk(args, ARGS_PER_SUBSCRIBE).map((a) => JSON.stringify({ op: 'subscribe', args: a })),
        klinesOnly: true,
      },
    ];
  }

  async function prepare(signal: AbortSignal): Promise<void> {
    contractValues = await okxContractValues({
      symbols: table.symbols,
      given: options.contractValues ?? {},
      restUrl,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      signal,
    });
  }

  /**
   * The trade sized in the base asset; undefined for a derivative whose contract value is
   * unknown. A size that is not a decimal stays as sent, for the processor to reject (`bad-size`).
   */
  function inBase(t: Trade): Trade | undefined {
    if (!isOkxDerivative(t.symbol)) return t;
    const value = contractValues.get(t.symbol);
    if (value === undefined) return undefined;
    return { ...t, size: contractsToBase(t.size, value) ?? t.size };
  }

  function parse(frame: string, receiveTime: number, out: ParseOutput): void {
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
    if (isObject(msg.arg) && typeof msg.arg.channel === 'string' && msg.arg.channel.startsWith('candle')) {
      emitKlines(klines, frame, out);
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
      const t = readTrade(raw, receiveTime, out);
      if (t === undefined) continue;
      const sized = inBase(t);
      if (sized === undefined) out.reject('unknown-symbol', 'contract value of the instrument is not known', t.symbol);
      else out.trade(sized);
    }
  }

  async function backfill(req: BackfillRequest): Promise<Trade[]> {
    const market = table.market(req.symbol);
    if (market === undefined) return [];
    return pageBackwards(req.fromId, req.toId, MAX_PAGES, async (after) => {
      const url = joinUrl(
        restUrl,
        `/api/v5/market/history-trades?instId=${encodeURIComponent(req.symbol)}&type=1&after=${after}&limit=${REST_PAGE}`,
      );
      const { body } = await getJson(url, { fetch: options.fetch, signal: req.signal });
      const receiveTime = Date.now();
      const rows: Array<[bigint, Trade | undefined]> = [];
      // A history-trades row is a trade of the channel's shape (never aggregated).
      for (const row of readAnswer(body)) {
        const read = readTrade(row, receiveTime, SKIP_REJECTS);
        const t = read === undefined ? undefined : inBase(read);
        if (t !== undefined && t.symbol === req.symbol) rows.push([BigInt(t.tradeId), t]);
      }
      return rows;
    });
  }

  return {
    venue,
    sequentialIds: true,
    idSpansTradeCount: true,
    prepare,
    plan,
    parse,
    ...(restUrl ? { backfill } : {}),
  };
}

/** The business endpoint beside a public one (`…/ws/v5/public` -> `…/ws/v5/business`); another URL is kept. */
export function businessUrl(publicUrl: string): string {
  const u = new URL(publicUrl);
  if (u.pathname.endsWith('/public')) u.pathname = `${u.pathname.slice(0, -'/public'.length)}/business`;
  else if (u.pathname === '/' || u.pathname === '') u.pathname = BUSINESS_PATH;
  return u.toString();
}

/**
 * `count`, the trades the message stands for (absent: one), ending at `tradeId`: null for one, so
 * that a single trade carries no tradeCount.
 */
function tradeCount(raw: RawTrade, tradeId: string): number | null | undefined {
  const count = raw.count === undefined ? 1 : typeof raw.count === 'string' ? Number(raw.count) : Number.NaN;
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_TRADE_COUNT || count > Number(tradeId) + 1) {
    return undefined;
  }
  return count > 1 ? count : null;
}
