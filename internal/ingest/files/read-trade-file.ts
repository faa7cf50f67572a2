import { basename } from 'node:path';
import { canonicalMarket } from '../../market/markets.js';
import { InputError } from '../../runtime/errors.js';
import { BinanceAggTradesParser } from './binance-aggtrades.js';
import { BinanceTradesParser } from './binance-trades.js';
import { JsonlParser } from './jsonl.js';
import { eachLine, readLineBlocks } from './lines.js';
import { MarketResolver } from './market-of.js';
import { TardisParser } from './tardis.js';
import type { LineParser, TradeFileItem, TradeFileOptions } from './trade-file.js';

/** `BTCUSDT-trades-2020-02.csv`, `BTCUSDT-aggTrades-2020-02-22.csv.gz` -> `BTCUSDT`. */
export function symbolFromBinanceFileName(path: string): string | undefined {
  const m = /^([A-Z0-9_]+)-(?:trades|aggTrades)-/.exec(basename(path));
  return m?.[1];
}

/**
 * The line parser for a format, with identity defaults resolved. Throws InputError
 * (`unknown-symbol`) when a Binance file's symbol is neither given nor in its file name, or
 * maps to no market.
 */
export function createLineParser(opts: Omit<TradeFileOptions, 'signal'>): LineParser {
  const markets = new MarketResolver(opts.market);
  switch (opts.format) {
    case 'tardis':
      return new TardisParser(markets, opts.exchange, opts.symbol);
    case 'jsonl':
      return new JsonlParser(markets, opts.exchange, opts.symbol);
    case 'binance-trades':
    case 'binance-aggtrades': {
      const symbol = opts.symbol ?? symbolFromBinanceFileName(opts.path);
      if (symbol === undefined) {
        throw new InputError('unknown-symbol', `${opts.path}: Binance files do not name their symbol; give one`);
      }
      // Spot and USD-M split symbols the same way, so the market does not depend on the venue.
      const market = opts.market ?? canonicalMarket(opts.exchange ?? 'binance', symbol);
      if (market === undefined) throw new InputError('unknown-symbol', `${symbol} maps to no market; give one`);
      return opts.format === 'binance-trades'
        ? new BinanceTradesParser(symbol, market, opts.exchange)
        : new BinanceAggTradesParser(symbol, market, opts.exchange);
    }
  }
}

/**
 * The trades of a file, in batches, each item a trade or a line-numbered reject. Blank lines,
 * headers and rows filtered out by exchange/symbol yield nothing.
 */
export async function* readTradeFileBatches(opts: TradeFileOptions): AsyncGenerator<TradeFileItem[]> {
  const parser = createLineParser(opts);
  let n = 0;
  for await (const text of readLineBlocks(opts.path, opts.signal)) {
    const items: TradeFileItem[] = [];
    eachLine(text, (start, end) => {
      const item = parser.parse(text, start, end, ++n);
      if (item !== undefined) items.push(item);
    });
    if (items.length > 0) yield items;
  }
}

/**
 * The trades of a file one by one: `for await (const item of readTradeFile({ path, format }))`.
 * Use readTradeFileBatches on hot paths.
 */
export async function* readTradeFile(opts: TradeFileOptions): AsyncGenerator<TradeFileItem> {
  for await (const batch of readTradeFileBatches(opts)) yield* batch;
}
