import type { Trade } from '../market/trade.js';

/**
 * Longest text field (exchange, symbol, market, trade id) a trade may carry, in UTF-16 units.
 * The record formats allow 255 bytes (trade-batch.v1); the guard holds for any record version.
 */
export const MAX_FIELD_LENGTH = 255;

/**
 * Why PostgreSQL could not store this trade's text fields, or undefined when it can. They end up
 * in candle and alert rows (text and jsonb), where PostgreSQL refuses a NUL character (22P05,
 * 22021) and a lone UTF-16 surrogate (22P05 in jsonb): a trade carrying one would make every
 * commit of its partition fail. The worker rejects such a trade before it reaches an actor, so a
 * replay rejects it again and no candle ever holds it.
 */
export function unstorableField(t: Trade): string | undefined {
  return (
    badText('exchange', t.exchange) ??
    badText('symbol', t.symbol) ??
    badText('market', t.market) ??
    badText('tradeId', t.tradeId)
  );
}

function badText(field: string, s: unknown): string | undefined {
  if (typeof s !== 'string' || s.length === 0) return `${field} is empty`;
  if (s.length > MAX_FIELD_LENGTH) return `${field} is longer than ${MAX_FIELD_LENGTH}`;
  if (s.includes('\u0000')) return `${field} holds a NUL character`;
  if (!s.isWellFormed()) return `${field} holds a lone UTF-16 surrogate`;
  return undefined;
}
