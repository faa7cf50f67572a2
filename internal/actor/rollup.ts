import type { Candle } from '../market/candle.js';
import { type Interval, windowEnd, windowStart } from '../market/interval.js';
import { VWAP_DECIMALS } from './candle-window.js';
import { compareDecimal, decimalToBig, divideDecimal, formatScaledBig } from './decimal.js';

function scaleOf(s: string): number {
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

function sum(values: readonly string[]): { value: bigint; scale: number } {
  const scale = Math.max(0, ...values.map(scaleOf));
  let value = 0n;
  for (const v of values) value += decimalToBig(v, scale) as bigint;
  return { value, scale };
}

/**
 * Candles of a larger interval from consecutive candles of a smaller one whose windows nest in
 * it (market/interval.ts `nests`: not 1w into 1M, nor 3d into 1w), exactly: the same result as building the
 * larger interval from the trades. Input: one market, ascending openTime, every window present
 * (empty ones included, as the actor emits them); windows of the target interval that the input
 * only partly covers are left out.
 */
export function rollUp(candles: readonly Candle[], interval: Interval): Candle[] {
  const out: Candle[] = [];
  let group: Candle[] = [];
  const finish = (): void => {
    const first = group[0];
    if (first === undefined) return;
    const start = windowStart(interval, first.openTime);
    const len = windowEnd(interval, start) - start;
    const covered = group.reduce((ms, c) => ms + (c.closeTime + 1 - c.openTime), 0);
    if (first.openTime === start && covered === len) out.push(combine(group, interval, start, len));
    group = [];
  };
  for (const c of candles) {
    const first = group[0];
    if (first !== undefined && windowStart(interval, first.openTime) !== windowStart(interval, c.openTime)) finish();
    group.push(c);
  }
  finish();
  return out;
}

function combine(group: readonly Candle[], interval: Interval, start: number, len: number): Candle {
  const first = group[0] as Candle;
  const traded = group.filter((c) => c.trades > 0);
  const head = traded[0];
  const tail = traded[traded.length - 1];
  let high = head?.high ?? first.open;
  let low = head?.low ?? first.open;
  for (const c of traded) {
    if (compareDecimal(c.high, high) > 0) high = c.high;
    if (compareDecimal(c.low, low) < 0) low = c.low;
  }
  const volume = sum(group.map((c) => c.volume));
  const quote = sum(group.map((c) => c.quoteVolume));
  const close = tail?.close ?? first.open;
  return {
    exchange: first.exchange,
    symbol: first.symbol,
    market: first.market,
    interval,
    openTime: start,
    closeTime: start + len - 1,
    open: head?.open ?? first.open,
    high,
    low,
    close,
    volume: formatScaledBig(volume.value, volume.scale),
    quoteVolume: formatScaledBig(quote.value, quote.scale),
    trades: group.reduce((n, c) => n + c.trades, 0),
    takerBuyVolume: formatDecimalSum(group.map((c) => c.takerBuyVolume)),
    takerBuyQuoteVolume: formatDecimalSum(group.map((c) => c.takerBuyQuoteVolume)),
    vwap:
      volume.value === 0n ? close : divideDecimal(quote.value, quote.scale, volume.value, volume.scale, VWAP_DECIMALS),
    firstTradeId: head?.firstTradeId ?? '',
    lastTradeId: tail?.lastTradeId ?? '',
    revision: Math.max(...group.map((c) => c.revision)),
    closed: group.every((c) => c.closed),
  };
}

function formatDecimalSum(values: readonly string[]): string {
  const s = sum(values);
  return formatScaledBig(s.value, s.scale);
}
