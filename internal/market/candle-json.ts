import { type Candle, candleKey } from './candle.js';

/**
 * A candle's JSON, written field by field: the same text JSON.stringify gives for a candle whose
 * properties are in the Candle interface's order, at less cost: a live worker writes each partial
 * candle twice, to NATS and to Redis, and JSON.stringify of the spread update object with its
 * UTF-8 encoding showed in its CPU profile (docs/BENCHMARKS.md).
 */
export function candleJson(c: Candle): string {
  return `{${fields(c)}}`;
}

/** The JSON a candle update carries on NATS (docs/STORAGE.md): `key` first, then the candle. */
export function candleUpdateJson(c: Candle): string {
  return `{"key":${jsonString(candleKey(c))},${fields(c)}}`;
}

function fields(c: Candle): string {
  return (
    `"exchange":${jsonString(c.exchange)},"symbol":${jsonString(c.symbol)},"market":${jsonString(c.market)}` +
    `,"interval":${jsonString(c.interval)},"openTime":${jsonNumber(c.openTime)},"closeTime":${jsonNumber(c.closeTime)}` +
    `,"open":${jsonString(c.open)},"high":${jsonString(c.high)},"low":${jsonString(c.low)},"close":${jsonString(c.close)}` +
    `,"volume":${jsonString(c.volume)},"quoteVolume":${jsonString(c.quoteVolume)},"trades":${jsonNumber(c.trades)}` +
    `,"takerBuyVolume":${jsonString(c.takerBuyVolume)},"takerBuyQuoteVolume":${jsonString(c.takerBuyQuoteVolume)}` +
    `,"vwap":${jsonString(c.vwap)},"firstTradeId":${jsonString(c.firstTradeId)},"lastTradeId":${jsonString(c.lastTradeId)}` +
    `,"revision":${jsonNumber(c.revision)},"closed":${c.closed ? 'true' : 'false'}`
  );
}

/** Printable ASCII other than `"` and `\`: what JSON writes as is between quotes. */
const PLAIN = new Uint8Array(128);
for (let ch = 0x20; ch < 0x7f; ch++) PLAIN[ch] = 1;
PLAIN[0x22] = 0;
PLAIN[0x5c] = 0;

/** A JSON string literal; anything that needs escaping goes through JSON.stringify. */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 0x80 || PLAIN[ch] === 0) return JSON.stringify(s);
  }
  return `"${s}"`;
}

function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}
