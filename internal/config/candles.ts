import { z } from 'zod';
import { TRADE_FILE_FORMATS } from '../ingest/files/trade-file.js';
import { INTERVALS } from '../market/interval.js';
import { intFlag, textFlag } from './flags.js';
import type { FlagSpec } from './parse-flags.js';

/** The `tickmesh candles` flags (cmd/tickmesh/candles.ts builds the actor's config from them). */
export const CANDLES_FLAGS = {
  input: { schema: z.string().min(1), arg: 'FILE', help: 'trade file (gzip when it ends in .gz)' },
  format: {
    schema: z.enum(TRADE_FILE_FORMATS, { error: `expected one of ${TRADE_FILE_FORMATS.join(', ')}` }),
    arg: 'FORMAT',
    help: TRADE_FILE_FORMATS.join(' | '),
  },
  interval: { schema: z.enum(INTERVALS).default('1m'), arg: 'I', help: `candle interval (${INTERVALS.join(' ')})` },
  output: {
    schema: z.enum(['csv', 'jsonl']).default('csv'),
    arg: 'csv|jsonl',
    help:
      'csv: the exchange kline layout, one market per file (open_time,open,high,low,close,volume, ' +
      'close_time,quote_volume,count, taker_buy_volume,taker_buy_quote_volume,ignore), prices and volumes ' +
      "printed with the decimals the file's own trades use; jsonl: one Candle per line (vwap, trade ids, " +
      'revision), any number of markets',
  },
  strict: { schema: z.boolean().default(false), help: 'fail at the first bad row (exit 1) instead of skipping it' },
  exchange: {
    schema: textFlag,
    arg: 'X',
    help:
      'venue: names it for Binance files (binance for the spot layout, binance-futures for USD-M); ' +
      'keeps only its rows in tardis and jsonl files',
    defaultHelp: 'binance',
  },
  symbol: {
    schema: textFlag,
    arg: 'Y',
    help: "the venue's symbol: names it for Binance files; keeps only its rows in tardis and jsonl files",
    defaultHelp: 'from the file name',
  },
  market: {
    schema: textFlag,
    arg: 'M',
    help: 'canonical market id (BTC-USDT) instead of the one derived from the symbol',
  },
  outOfOrdernessMs: {
    flag: 'out-of-order-ms',
    schema: intFlag(0).default(2_000),
    arg: 'N',
    help: 'allowed out-of-orderness of trade times',
  },
  allowedLatenessMs: {
    schema: intFlag(0).default(60_000),
    arg: 'N',
    help: 'window retention for late trades (printed again as revisions)',
  },
} as const satisfies FlagSpec;
