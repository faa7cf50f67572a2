import { type Interval, windowEnd, windowStart } from '../market/interval.js';
import type { Trade } from '../market/trade.js';
import type { VenueKline } from '../verify/kline.js';
import type { KlineRecord } from '../verify/kline-record.js';

/**
 * A discrepancy planted in the simulator's klines, so that a mismatch can be shown end to end:
 * `field` raises the high of one 1m kline of `market` by one price unit of its last decimal;
 * `withheld-trade` counts one trade in its 1m kline (and every kline containing it) but never
 * publishes it on the trade stream, as a trade lost between a venue and tickmesh would be.
 * The planted window is the market's first whole 1m window: the one after the window its
 * first trade fell in.
 */
export interface PlantedDiscrepancy {
  readonly market: string;
  readonly kind: 'field' | 'withheld-trade';
}

export const PLANT_KINDS = ['field', 'withheld-trade'] as const;

/** `MARKET` or `MARKET:KIND` (kind default `withheld-trade`); undefined when it is neither. */
export function parsePlantedDiscrepancy(text: string): PlantedDiscrepancy | undefined {
  const [market = '', kind = 'withheld-trade', ...rest] = text.trim().split(':');
  if (market === '' || rest.length > 0 || !(PLANT_KINDS as readonly string[]).includes(kind)) return undefined;
  return { market: market.toUpperCase(), kind: kind as PlantedDiscrepancy['kind'] };
}

/** One open window of one market and interval, in scaled integers. */
interface Window {
  readonly openTime: number;
  readonly end: number;
  open: bigint;
  high: bigint;
  low: bigint;
  close: bigint;
  volume: bigint;
  quote: bigint;
  buyVolume: bigint;
  buyQuote: bigint;
  trades: number;
}

interface MarketKlines {
  readonly market: string;
  readonly priceDecimals: number;
  readonly sizeDecimals: number;
  /** Per interval: the window trades go into now; absent before the market's first trade. */
  readonly windows: Map<Interval, Window>;
  /** Start of the planted 1m window (the end of the first trade's), once the first trade fixed it. */
  plantAt?: number;
  planted: boolean;
}

/** Empty windows a quiet market closes at most per advance: the rest close as time goes on. */
const MAX_CLOSES_PER_ADVANCE = 10_000;

/**
 * The simulator's own klines, as a venue would publish them (Binance's rules): built from the
 * trades it emitted, in exact scaled integers; each window's final kline once time passes its
 * end; a window without trades flat at the previous close, volume 0, count 0. Pure: time is an
 * argument (`advance`), the caller publishes what it returns.
 */
export class SimKlineBuilder {
  private readonly markets = new Map<string, MarketKlines>();

  constructor(
    private readonly intervals: readonly Interval[],
    private readonly plant?: PlantedDiscrepancy,
  ) {}

  /**
   * Counts `t` in its windows. Returns whether the trade is to be published: false only for the
   * trade a `withheld-trade` discrepancy withholds. Call `advance(t.eventTime)` first.
   */
  add(t: Trade): boolean {
    const m = this.market(t);
    const price = units(t.price, m.priceDecimals);
    const size = units(t.size, m.sizeDecimals);
    m.plantAt ??= windowEnd('1m', windowStart('1m', t.eventTime));
    for (const interval of this.intervals) {
      let w = m.windows.get(interval);
      if (w === undefined) {
        w = emptyWindow(interval, windowStart(interval, t.eventTime), price);
        m.windows.set(interval, w);
      }
      if (w.trades === 0) {
        w.open = price;
        w.high = price;
        w.low = price;
      }
      if (price > w.high) w.high = price;
      if (price < w.low) w.low = price;
      w.close = price;
      w.volume += size;
      w.quote += price * size;
      if (t.side === 'buy') {
        w.buyVolume += size;
        w.buyQuote += price * size;
      }
      w.trades += 1;
    }
    const withheld =
      this.plant?.kind === 'withheld-trade' &&
      this.plant.market === t.market &&
      !m.planted &&
      t.eventTime >= (m.plantAt as number);
    if (withheld) m.planted = true;
    return !withheld;
  }

  /** The final klines of every window that ended at or before `time`, oldest first per market and interval. */
  advance(time: number, receivedAt: number): KlineRecord[] {
    const out: KlineRecord[] = [];
    for (const m of this.markets.values()) {
      for (const interval of this.intervals) {
        let w = m.windows.get(interval);
        for (let n = 0; w !== undefined && w.end <= time && n < MAX_CLOSES_PER_ADVANCE; n++) {
          out.push(this.record(m, interval, w, receivedAt));
          w = emptyWindow(interval, w.end, w.close);
          m.windows.set(interval, w);
        }
      }
    }
    return out;
  }

  private record(m: MarketKlines, interval: Interval, w: Window, receivedAt: number): KlineRecord {
    const p = m.priceDecimals;
    const s = m.sizeDecimals;
    let high = w.high;
    if (this.plant?.kind === 'field' && this.plant.market === m.market && interval === '1m' && !m.planted) {
      if (w.openTime >= (m.plantAt ?? Number.POSITIVE_INFINITY) && w.trades > 0) {
        high += 1n;
        m.planted = true;
      }
    }
    const kline: VenueKline = {
      openTime: w.openTime,
      open: format(w.open, p),
      high: format(high, p),
      low: format(w.low, p),
      close: format(w.close, p),
      volume: format(w.volume, s),
      quoteVolume: format(w.quote, p + s),
      trades: w.trades,
      takerBuyVolume: format(w.buyVolume, s),
      takerBuyQuoteVolume: format(w.buyQuote, p + s),
    };
    return { v: 1, exchange: 'sim', symbol: m.market, market: m.market, interval, final: true, kline, receivedAt };
  }

  private market(t: Trade): MarketKlines {
    let m = this.markets.get(t.market);
    if (m === undefined) {
      m = {
        market: t.market,
        priceDecimals: decimals(t.price),
        sizeDecimals: decimals(t.size),
        windows: new Map(),
        planted: false,
      };
      this.markets.set(t.market, m);
    }
    return m;
  }
}

function emptyWindow(interval: Interval, openTime: number, previousClose: bigint): Window {
  return {
    openTime,
    end: windowEnd(interval, openTime),
    open: previousClose,
    high: previousClose,
    low: previousClose,
    close: previousClose,
    volume: 0n,
    quote: 0n,
    buyVolume: 0n,
    buyQuote: 0n,
    trades: 0,
  };
}

function decimals(s: string): number {
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
}

/** The simulator prints every price (size) of a market with the same decimals: its digits are the scaled integer. */
function units(s: string, d: number): bigint {
  const i = s.indexOf('.');
  const frac = i < 0 ? '' : s.slice(i + 1);
  return BigInt((i < 0 ? s : s.slice(0, i)) + frac.padEnd(d, '0').slice(0, d));
}

function format(v: bigint, d: number): string {
  if (d === 0) return v.toString();
  const digits = v.toString().padStart(d + 1, '0');
  return `${digits.slice(0, -d)}.${digits.slice(-d)}`;
}
