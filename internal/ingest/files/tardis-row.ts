import type { TakerSide, Trade } from '../../market/trade.js';
import type { FileTradeRow } from './trade-file.js';

/**
 * One tardis row parsed in place by TardisParser.scan, reused row after row. The strings a
 * Trade needs (price and size as printed) are cut from the block only when toTrade is called.
 */
export class TardisRow implements FileTradeRow {
  exchange = '';
  symbol = '';
  market = '';
  priceValue = 0;
  priceScale = 0;
  priceDecimals = 0;
  sizeValue = 0;
  sizeScale = 0;
  sizeDecimals = 0;
  eventTime = 0;
  receiveTime = 0;
  tradeId = '';
  idNum = Number.NaN;
  buy = false;
  readonly tradeCount = 1;
  /** The block the row was read from, and where its price and size are in it (ASCII). */
  bytes: Buffer = Buffer.alloc(0);
  priceStart = 0;
  priceEnd = 0;
  sizeStart = 0;
  sizeEnd = 0;

  toTrade(): Trade {
    const side: TakerSide = this.buy ? 'buy' : 'sell';
    return {
      exchange: this.exchange,
      symbol: this.symbol,
      market: this.market,
      tradeId: this.tradeId,
      price: this.bytes.toString('latin1', this.priceStart, this.priceEnd),
      size: this.bytes.toString('latin1', this.sizeStart, this.sizeEnd),
      side,
      eventTime: this.eventTime,
      receiveTime: this.receiveTime,
    };
  }
}
