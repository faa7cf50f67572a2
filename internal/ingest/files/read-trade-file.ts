import { basename } from 'node:path';
import { canonicalMarket } from '../../market/markets.js';
import { InputError } from '../../runtime/errors.js';
import { BinanceAggTradesParser } from './binance-aggtrades.js';
import { BinanceTradesParser } from './binance-trades.js';
import { JsonlParser } from './jsonl.js';
import { eachLine, readLineBlocks, readLineBuffers } from './lines.js';
import { MarketResolver } from './market-of.js';
import { TardisParser } from './tardis.js';
import { TardisRow } from './tardis-row.js';
import type { FileTradeRow, LineParser, TradeFileItem, TradeFileOptions } from './trade-file.js';

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

/**
 * Receives a file's trades from scanTradeFile. `row` and `item` return true to stop reading;
 * `block` runs after each block of lines (a place to write outputs and wait for the writer).
 */
export interface TradeFileSink {
  /** A trade read in place (the tardis layout's clean rows); the row is reused after the call. */
  row(row: FileTradeRow, line: number): boolean;
  /** A trade or a reject, as readTradeFile gives them (every other row, and every other format). */
  item(item: TradeFileItem): boolean;
  block(): Promise<void>;
}

/**
 * The trades of a file, as readTradeFileBatches gives them, into `sink`: the hot path of an
 * offline run. A tardis file's clean rows are read in place (TardisParser.scan): no string per
 * field, no Trade and no item per row, and the decimals parsed once; every other row, and every
 * other format, goes through the line parser as an item.
 */
export async function scanTradeFile(opts: TradeFileOptions, sink: TradeFileSink): Promise<void> {
  const parser = createLineParser(opts);
  const tardis = parser instanceof TardisParser ? parser : undefined;
  const row = new TardisRow();
  let n = 0;
  for await (const bytes of readLineBuffers(opts.path, opts.signal)) {
    let p = 0;
    while (p < bytes.length) {
      n++;
      const next = tardis === undefined ? -1 : tardis.scan(bytes, p, row);
      if (next >= 0) {
        if (sink.row(row, n)) return;
        p = next;
        continue;
      }
      // Lines are cut at 0x0a, which no multi-byte UTF-8 sequence holds: decoding one line alone
      // gives what decoding the whole file gives for it.
      let nl = bytes.indexOf(10, p);
      if (nl < 0) nl = bytes.length;
      const line = bytes.toString('utf8', p, nl > p && bytes[nl - 1] === 13 ? nl - 1 : nl);
      const item = parser.parse(line, 0, line.length, n);
      if (item !== undefined && sink.item(item)) return;
      p = nl + 1;
    }
    await sink.block();
  }
}
