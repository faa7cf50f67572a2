import { type ParsedDecimal, parseDecimalBytes } from '../actor/decimal.js';
import type { TradeBatchReader } from '../log/trade-batch.js';
import type { Trade } from '../market/trade.js';
import type { TradeRow } from '../market/trade-row.js';

/**
 * An entry of a `trade-batch.v1` record as the actor's TradeRow, read from the record's bytes
 * (TradeBatchReader): no Trade object and no price or size string per trade. One row is reused
 * entry after entry; toTrade() makes the entry's Trade for the few outputs that carry one.
 */
export class BatchTradeRow implements TradeRow {
  priceValue = 0;
  priceScale = 0;
  sizeValue = 0;
  sizeScale = 0;
  eventTime = 0;
  tradeId = '';
  idNum = Number.NaN;
  buy = false;
  tradeCount = 1;
  private reader: TradeBatchReader | undefined;
  private entry = 0;
  private readonly scratch: ParsedDecimal = { value: 0, scale: 0 };

  /**
   * Loads entry k of what `reader` read last. False when its price or size is not a positive
   * decimal the actor holds: MarketActor.onTrade of `reader.trade(k)` rejects it with its reason
   * (it parses the strings the same way).
   */
  load(reader: TradeBatchReader, k: number): boolean {
    const b = reader.bytes;
    const sc = this.scratch;
    if (!parseDecimalBytes(b, reader.priceStart[k] as number, reader.priceEnd[k] as number, sc) || sc.value === 0) {
      return false;
    }
    this.priceValue = sc.value;
    this.priceScale = sc.scale;
    if (!parseDecimalBytes(b, reader.sizeStart[k] as number, reader.sizeEnd[k] as number, sc) || sc.value === 0) {
      return false;
    }
    this.sizeValue = sc.value;
    this.sizeScale = sc.scale;
    this.eventTime = reader.eventTime[k] as number;
    const idNum = numericIdBytes(b, reader.idStart[k] as number, reader.idEnd[k] as number);
    this.idNum = idNum;
    // A canonical integer id prints back as its own text: a flat string, without reading the bytes again.
    // biome-ignore lint/suspicious/noSelfCompare: NaN test on the hot path
    this.tradeId = idNum === idNum ? String(idNum) : reader.tradeId(k);
    this.buy = !reader.sell(k);
    const count = reader.tradeCount[k] as number;
    this.tradeCount = count === 0 ? 1 : count;
    this.reader = reader;
    this.entry = k;
    return true;
  }

  toTrade(): Trade {
    return (this.reader as TradeBatchReader).trade(this.entry);
  }
}

/**
 * The trade id in b[from, to) as a number when it is a canonical decimal integer of at most 15
 * digits, else NaN: numericId (internal/actor/market-actor.ts) of the id's text.
 */
function numericIdBytes(b: Uint8Array, from: number, to: number): number {
  const n = to - from;
  if (n === 0 || n > 15 || (n > 1 && b[from] === 48)) return Number.NaN;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = (b[i] as number) - 48;
    if (c < 0 || c > 9) return Number.NaN;
    v = v * 10 + c;
  }
  return v;
}
