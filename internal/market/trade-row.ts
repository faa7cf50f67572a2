import type { Trade } from './trade.js';

/**
 * A trade whose decimals and id a reader has already parsed in place, for the actor's hot path
 * (MarketActor.onTradeRow): no decimal string is made or parsed again per trade. Readers reuse
 * one row object; it is valid only during the call it is passed to.
 *
 * The numbers are what the actor's own parse of the Trade's strings gives: `priceValue` /
 * `10^priceScale` is the price with trailing fractional zeros removed (positive, below 2^53,
 * scale at most 15), the same for the size; `idNum` is the trade id as a number when it is a
 * canonical decimal integer of at most 15 digits, else NaN.
 */
export interface TradeRow {
  readonly priceValue: number;
  readonly priceScale: number;
  readonly sizeValue: number;
  readonly sizeScale: number;
  readonly eventTime: number;
  readonly tradeId: string;
  readonly idNum: number;
  readonly buy: boolean;
  /** Exchange trades the row stands for (Trade.tradeCount; 1 when the venue does not aggregate). */
  readonly tradeCount: number;
  /** The row as a Trade, for the rare outputs that carry one: late and rejected trades, whale alerts. */
  toTrade(): Trade;
}
