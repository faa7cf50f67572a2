export { createLineParser, readTradeFile, readTradeFileBatches, symbolFromBinanceFileName } from './read-trade-file.js';
export {
  isTradeFileFormat,
  type LineParser,
  type LineRejectReason,
  TRADE_FILE_FORMATS,
  type TradeFileFormat,
  type TradeFileItem,
  type TradeFileOptions,
} from './trade-file.js';
