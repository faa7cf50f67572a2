import { decimalNumber, exactNumbers, idNumber } from '../ingest/exact-json.js';
import { isObject, tryParse } from '../ingest/venue.js';
import { INTERVALS, type Interval, isInterval } from '../market/interval.js';
import { canonicalMarket, isOkxDerivative } from '../market/markets.js';
import { isPlainDecimal, type VenueKline } from './kline.js';
import { BYBIT_INTERVALS, KRAKEN_MINUTES, krakenVwap, OKX_BARS } from './venue-klines.js';

/**
 * One kline a venue pushed on its WebSocket candle channel (Binance `<symbol>@kline_<i>`, Bybit
 * `kline.<i>.<symbol>`, OKX `candle<i>`, Coinbase Advanced `candles`, Kraken v2 `ohlc`), read
 * into the same VenueKline the REST history gives, so the live reconciler and `tickmesh verify`
 * compare by one function (compare.ts).
 */
export interface KlinePush {
  /** The market id, as trades of the same venue and symbol carry it (markets.ts). */
  readonly market: string;
  readonly interval: Interval;
  readonly kline: VenueKline;
  /**
   * Whether the venue marks this push as the window's last (Binance `x`, Bybit `confirm`, OKX's
   * ninth field). Undefined where the venue does not say (Coinbase, Kraken): such a window is
   * final once the reconciler's settle time has passed its end.
   */
  readonly final: boolean | undefined;
}

/** A push as its frame names it: with the venue's own symbol, which the klines topic keys by. */
export interface VenueKlinePush extends KlinePush {
  /** The venue's spelling (`BTCUSDT`, `BTC/USD`), as trades of the same market carry it. */
  readonly symbol: string;
}

/** A frame that is not a kline push at all (a trade, a subscription answer) gives no pushes. */
export type KlinePushResult = { readonly pushes: readonly VenueKlinePush[] } | { readonly reject: string };

export type KlinePushParser = (frame: string) => KlinePushResult;

const NONE: KlinePushResult = Object.freeze({ pushes: Object.freeze([]) });

/** A venue's names of intervals back to tickmesh's, from the REST tables (venue-klines.ts). */
function byName<T extends string | number>(table: Partial<Record<Interval, T>>, prefix = ''): Record<string, Interval> {
  const out: Record<string, Interval> = {};
  for (const [interval, name] of Object.entries(table)) out[`${prefix}${name}`] = interval as Interval;
  return out;
}
const BYBIT_BY_NAME = byName(BYBIT_INTERVALS);
/** OKX's UTC-aligned channels only: its plain `candle1D` opens at 16:00 UTC (Hong Kong midnight). */
const OKX_BY_CHANNEL = byName(OKX_BARS, 'candle');
const KRAKEN_BY_MINUTES = byName(KRAKEN_MINUTES);

/** The parser of `venue`'s kline pushes, or undefined for a venue without a candle channel. */
export function klinePushParser(venue: string): KlinePushParser | undefined {
  switch (venue) {
    case 'binance':
    case 'binance-futures':
      return (frame) => binance(venue, frame);
    case 'bybit':
    case 'bybit-linear':
      return (frame) => bybit(venue, frame);
    case 'okx':
      return okx;
    case 'coinbase':
      return coinbase;
    case 'kraken':
      return kraken;
    default:
      return undefined;
  }
}

function reject(reason: string): KlinePushResult {
  return { reject: reason };
}

function decimals(o: Record<string, unknown>, fields: Record<string, string>): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const [to, from] of Object.entries(fields)) {
    const v = o[from];
    if (!isPlainDecimal(v)) return `${from} is not a plain decimal`;
    out[to] = v;
  }
  return out;
}

function marketOf(venue: string, symbol: unknown): string | undefined {
  return typeof symbol === 'string' ? canonicalMarket(venue, symbol) : undefined;
}

/** The intervals of KLINE_CHANNEL_INTERVALS[venue] among `wanted`, in `wanted`'s order. */
export function klineChannelIntervals(venue: string, wanted: readonly Interval[]): Interval[] {
  const has = KLINE_CHANNEL_INTERVALS[venue];
  return has === undefined ? [] : wanted.filter((i) => has.includes(i));
}

const keysOf = (table: Partial<Record<Interval, unknown>>) => Object.keys(table) as Interval[];

/**
 * The intervals each venue's candle channel pushes (tickmesh's names). Binance spot has every
 * interval tickmesh knows, USD-M all but 1s; Coinbase Advanced's `candles` channel is 5m only.
 */
export const KLINE_CHANNEL_INTERVALS: Readonly<Record<string, readonly Interval[]>> = Object.freeze({
  binance: INTERVALS,
  'binance-futures': INTERVALS.filter((i) => i !== '1s'),
  bybit: keysOf(BYBIT_INTERVALS),
  'bybit-linear': keysOf(BYBIT_INTERVALS),
  okx: keysOf(OKX_BARS),
  coinbase: ['5m'],
  kraken: keysOf(KRAKEN_MINUTES),
});

function binance(venue: string, frame: string): KlinePushResult {
  const msg = tryParse(frame);
  if (!isObject(msg)) return reject('not JSON');
  const data = isObject(msg.data) ? msg.data : msg;
  if (data.e !== 'kline') return NONE;
  const k = data.k;
  if (!isObject(k)) return reject('kline push without k');
  const symbol = k.s ?? data.s;
  const market = marketOf(venue, symbol);
  if (market === undefined) return reject('unknown symbol');
  if (typeof k.i !== 'string' || !isInterval(k.i)) return reject('unknown interval');
  if (!Number.isSafeInteger(k.t) || !Number.isSafeInteger(k.n) || typeof k.x !== 'boolean') {
    return reject('bad open time, count or final flag');
  }
  const d = decimals(k, {
    open: 'o',
    high: 'h',
    low: 'l',
    close: 'c',
    volume: 'v',
    quoteVolume: 'q',
    takerBuyVolume: 'V',
    takerBuyQuoteVolume: 'Q',
  });
  if (typeof d === 'string') return reject(d);
  const kline: VenueKline = {
    openTime: k.t as number,
    open: d.open as string,
    high: d.high as string,
    low: d.low as string,
    close: d.close as string,
    volume: d.volume as string,
    quoteVolume: d.quoteVolume as string,
    trades: k.n as number,
    takerBuyVolume: d.takerBuyVolume as string,
    takerBuyQuoteVolume: d.takerBuyQuoteVolume as string,
  };
  return { pushes: [{ market, symbol: symbol as string, interval: k.i as Interval, kline, final: k.x }] };
}

function bybit(venue: string, frame: string): KlinePushResult {
  const msg = tryParse(frame);
  if (!isObject(msg)) return reject('not JSON');
  if (typeof msg.topic !== 'string' || !msg.topic.startsWith('kline.')) return NONE;
  const [, code, symbol] = msg.topic.split('.');
  const interval = code === undefined ? undefined : BYBIT_BY_NAME[code];
  if (interval === undefined) return reject('unknown interval');
  const market = marketOf(venue, symbol);
  if (market === undefined) return reject('unknown symbol');
  if (!Array.isArray(msg.data)) return reject('kline push without data');
  const pushes: VenueKlinePush[] = [];
  for (const row of msg.data) {
    if (!isObject(row) || !Number.isSafeInteger(row.start) || typeof row.confirm !== 'boolean') {
      return reject('bad start or confirm');
    }
    const d = decimals(row, {
      open: 'open',
      high: 'high',
      low: 'low',
      close: 'close',
      volume: 'volume',
      quoteVolume: 'turnover',
    });
    if (typeof d === 'string') return reject(d);
    pushes.push({
      market,
      symbol: symbol as string,
      interval,
      final: row.confirm,
      kline: {
        openTime: row.start as number,
        open: d.open as string,
        high: d.high as string,
        low: d.low as string,
        close: d.close as string,
        volume: d.volume as string,
        quoteVolume: d.quoteVolume as string,
      },
    });
  }
  return { pushes };
}

function okx(frame: string): KlinePushResult {
  const msg = tryParse(frame);
  if (!isObject(msg) || !isObject(msg.arg)) return msg === undefined ? reject('not JSON') : NONE;
  const channel = msg.arg.channel;
  if (typeof channel !== 'string' || !channel.startsWith('candle')) return NONE;
  const interval = OKX_BY_CHANNEL[channel];
  if (interval === undefined) return reject('not a UTC-aligned candle channel');
  const symbol = msg.arg.instId;
  const market = marketOf('okx', symbol);
  if (market === undefined) return reject('unknown symbol');
  if (!Array.isArray(msg.data)) return reject('candle push without data');
  const pushes: VenueKlinePush[] = [];
  // [ts, o, h, l, c, vol, volCcy, volCcyQuote (quote), confirm]: vol is the base volume of spot
  // and counts a derivative's contracts, whose base volume is volCcy (as tickmesh sizes trades).
  const derivative = isOkxDerivative(symbol as string);
  for (const row of msg.data) {
    if (!Array.isArray(row) || row.length < 9) return reject('short candle row');
    const [ts, o, h, l, c, contractsOrBase, base, quote, confirm] = row as unknown[];
    const vol = derivative ? base : contractsOrBase;
    if (typeof ts !== 'string' || !/^\d{1,15}$/.test(ts)) return reject('bad ts');
    if (![o, h, l, c, vol, quote].every(isPlainDecimal)) return reject('a price or volume is not a plain decimal');
    if (confirm !== '0' && confirm !== '1') return reject('bad confirm');
    pushes.push({
      market,
      symbol: symbol as string,
      interval,
      final: confirm === '1',
      kline: {
        openTime: Number(ts),
        open: o as string,
        high: h as string,
        low: l as string,
        close: c as string,
        volume: vol as string,
        quoteVolume: quote as string,
      },
    });
  }
  return { pushes };
}

function coinbase(frame: string): KlinePushResult {
  const msg = tryParse(frame);
  if (!isObject(msg)) return reject('not JSON');
  if (msg.channel !== 'candles') return NONE;
  if (!Array.isArray(msg.events)) return reject('candles push without events');
  const pushes: VenueKlinePush[] = [];
  for (const event of msg.events) {
    if (!isObject(event) || !Array.isArray(event.candles)) return reject('event without candles');
    for (const c of event.candles) {
      if (!isObject(c)) return reject('candle is not an object');
      const market = marketOf('coinbase', c.product_id);
      if (market === undefined) return reject('unknown symbol');
      if (typeof c.start !== 'string' || !/^\d{1,12}$/.test(c.start)) return reject('bad start');
      const d = decimals(c, { open: 'open', high: 'high', low: 'low', close: 'close', volume: 'volume' });
      if (typeof d === 'string') return reject(d);
      pushes.push({
        market,
        symbol: c.product_id as string,
        // The Advanced Trade channel pushes 5-minute candles only.
        interval: '5m',
        final: undefined,
        kline: {
          openTime: Number(c.start) * 1000,
          open: d.open as string,
          high: d.high as string,
          low: d.low as string,
          close: d.close as string,
          volume: d.volume as string,
        },
      });
    }
  }
  return { pushes };
}

function kraken(frame: string): KlinePushResult {
  let msg: unknown;
  try {
    msg = JSON.parse(frame, exactNumbers);
  } catch {
    return reject('not JSON');
  }
  if (!isObject(msg)) return reject('not an object');
  if (msg.channel !== 'ohlc' || (msg.type !== 'update' && msg.type !== 'snapshot')) return NONE;
  if (!Array.isArray(msg.data)) return reject('ohlc push without data');
  const pushes: VenueKlinePush[] = [];
  for (const row of msg.data) {
    if (!isObject(row)) return reject('ohlc row is not an object');
    const market = marketOf('kraken', row.symbol);
    if (market === undefined) return reject('unknown symbol');
    const interval = KRAKEN_BY_MINUTES[idNumber(row.interval) ?? ''];
    if (interval === undefined) return reject('unknown interval');
    const begin = typeof row.interval_begin === 'string' ? Date.parse(row.interval_begin) : Number.NaN;
    if (!Number.isSafeInteger(begin)) return reject('bad interval_begin');
    const [open, high, low, close, volume, vwap] = [row.open, row.high, row.low, row.close, row.volume, row.vwap].map(
      decimalNumber,
    );
    const trades = idNumber(row.trades);
    if (![open, high, low, close, volume, vwap].every(isPlainDecimal) || trades === undefined) {
      return reject('a price, volume or count is not an exact number');
    }
    pushes.push({
      market,
      symbol: row.symbol as string,
      interval,
      final: undefined,
      kline: {
        openTime: begin,
        open: open as string,
        high: high as string,
        low: low as string,
        close: close as string,
        volume: volume as string,
        ...krakenVwap(vwap as string, Number(trades)),
        trades: Number(trades),
      },
    });
  }
  return { pushes };
}
