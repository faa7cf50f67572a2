import type { Candle } from '../market/candle.js';
import { type Interval, windowEnd, windowStart } from '../market/interval.js';
import type { Trade } from '../market/trade.js';
import { tradeBefore, VWAP_DECIMALS } from './candle-window.js';
import { compareDecimal, decimalToBig, divideDecimal, formatScaledBig } from './decimal.js';

function scaleOf(s: string): number {
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.replace(/0+$/, '').length - dot - 1;
}

function idNum(id: string): number {
  return /^(0|[1-9]\d{0,14})$/.test(id) ? Number(id) : Number.NaN;
}

/**
 * The candles of one market and interval computed the slow, obvious way: group the trades by
 * window, sort each group, sum with bigints, fill the gaps between the first and the last
 * window with empty candles at the previous close. Duplicate trade ids count once. The
 * reference the tests hold the actor to; revision is 0 and closed true throughout.
 */
export function referenceCandles(trades: readonly Trade[], interval: Interval): Candle[] {
  const seen = new Set<string>();
  const unique = trades.filter((t) => !seen.has(t.tradeId) && seen.add(t.tradeId));
  if (unique.length === 0) return [];
  const first = unique[0] as Trade;
  const ps = Math.max(...unique.map((t) => scaleOf(t.price)));
  const ss = Math.max(...unique.map((t) => scaleOf(t.size)));
  const groups = new Map<number, Trade[]>();
  for (const t of unique) {
    const s = windowStart(interval, t.eventTime);
    const g = groups.get(s);
    if (g) g.push(t);
    else groups.set(s, [t]);
  }
  const starts = [...groups.keys()].sort((a, b) => a - b);
  const out: Candle[] = [];
  let prevClose = '';
  for (let s = starts[0] as number; s <= (starts[starts.length - 1] as number); s = windowEnd(interval, s)) {
    const g = groups.get(s);
    const base = {
      exchange: first.exchange,
      symbol: first.symbol,
      market: first.market,
      interval,
      openTime: s,
      closeTime: windowEnd(interval, s) - 1,
      revision: 0,
      closed: true,
    };
    if (!g) {
      out.push({
        ...base,
        open: prevClose,
        high: prevClose,
        low: prevClose,
        close: prevClose,
        volume: '0',
        quoteVolume: '0',
        trades: 0,
        takerBuyVolume: '0',
        takerBuyQuoteVolume: '0',
        vwap: prevClose,
        firstTradeId: '',
        lastTradeId: '',
      });
      continue;
    }
    g.sort((a, b) =>
      tradeBefore(a.eventTime, idNum(a.tradeId), a.tradeId, b.eventTime, idNum(b.tradeId), b.tradeId) ? -1 : 1,
    );
    let volume = 0n;
    let quote = 0n;
    let buyVolume = 0n;
    let buyQuote = 0n;
    let high = (g[0] as Trade).price;
    let low = high;
    for (const t of g) {
      const size = decimalToBig(t.size, ss) as bigint;
      const notional = (decimalToBig(t.price, ps) as bigint) * size;
      volume += size;
      quote += notional;
      if (t.side === 'buy') {
        buyVolume += size;
        buyQuote += notional;
      }
      if (compareDecimal(t.price, high) > 0) high = t.price;
      if (compareDecimal(t.price, low) < 0) low = t.price;
    }
    const canon = (p: string): string => formatScaledBig(decimalToBig(p, ps) as bigint, ps);
    const last = g[g.length - 1] as Trade;
    prevClose = canon(last.price);
    out.push({
      ...base,
      open: canon((g[0] as Trade).price),
      high: canon(high),
      low: canon(low),
      close: prevClose,
      volume: formatScaledBig(volume, ss),
      quoteVolume: formatScaledBig(quote, ps + ss),
      trades: g.reduce((n, t) => n + (t.tradeCount ?? 1), 0),
      takerBuyVolume: formatScaledBig(buyVolume, ss),
      takerBuyQuoteVolume: formatScaledBig(buyQuote, ps + ss),
      vwap: divideDecimal(quote, ps + ss, volume, ss, VWAP_DECIMALS),
      firstTradeId: (g[0] as Trade).tradeId,
      lastTradeId: last.tradeId,
    });
  }
  return out;
}
