import type { Alert } from '../market/alert.js';
import type { TradeRow } from '../market/trade-row.js';
import type { CandleContext, ParsedTrade } from './candle-window.js';
import type { DetectorConfig } from './config.js';
import { decimalToBig, formatScaledBig, MAX_SAFE, type ParsedDecimal, parseDecimal, pow10n } from './decimal.js';

/**
 * Whale trade: one trade whose notional (price * size, in the quote currency) is at or above
 * the market's threshold. The comparison is exact: the threshold is held at the actor's
 * notional scale and compared with the exact product.
 */
export class WhaleTradeDetector {
  private readonly threshold: string;
  private readonly cfg: DetectorConfig['whaleTrade'];
  /** Threshold at the current notional scale: a number when below 2^53, else -1 and `big` holds it. */
  private limit = 0;
  private big = 0n;
  private scale = -1;

  constructor(cfg: DetectorConfig['whaleTrade'], market: string) {
    this.cfg = cfg;
    this.threshold = cfg.perMarket[market] ?? cfg.notional;
  }

  check(t: ParsedTrade, row: Pick<TradeRow, 'toTrade'>, ctx: CandleContext): Alert | undefined {
    if (!this.cfg.enabled) return undefined;
    const qs = ctx.priceScale + ctx.sizeScale;
    if (qs !== this.scale) this.rescale(qs);
    if (t.notional >= 0 && this.limit >= 0 && t.notional < this.limit) return undefined;
    const notional = t.notional >= 0 ? BigInt(t.notional) : t.notionalBig;
    if (notional < this.big) return undefined;
    const critical = notional * 10n >= this.big * BigInt(Math.round(this.cfg.criticalMultiple * 10));
    const text = formatScaledBig(notional, qs);
    const trade = row.toTrade();
    return {
      id: `${ctx.exchange}:${ctx.symbol}:whale_trade:${trade.tradeId}`,
      exchange: ctx.exchange,
      symbol: ctx.symbol,
      market: ctx.market,
      kind: 'whale_trade',
      severity: critical ? 'critical' : 'warning',
      time: trade.eventTime,
      message: `${ctx.market} ${trade.side} ${trade.size} at ${trade.price}: notional ${text}`,
      evidence: {
        tradeId: trade.tradeId,
        side: trade.side,
        price: trade.price,
        size: trade.size,
        notional: text,
        threshold: this.threshold,
      },
    };
  }

  private rescale(qs: number): void {
    const scratch: ParsedDecimal = { value: 0, scale: 0 };
    parseDecimal(this.threshold, scratch);
    // Thresholds finer than the notional scale round up: a notional must reach the threshold.
    let big = decimalToBig(this.threshold, Math.max(qs, scratch.scale)) as bigint;
    if (scratch.scale > qs) {
      const f = pow10n(scratch.scale - qs);
      big = (big + f - 1n) / f;
    }
    this.big = big;
    this.limit = big <= BigInt(MAX_SAFE) ? Number(big) : -1;
    this.scale = qs;
  }
}
