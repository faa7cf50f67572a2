import { z } from 'zod';
import { intFlag, logLevelFlag, plantedDiscrepancyFlag, textFlag } from './flags.js';
import type { FlagSpec } from './parse-flags.js';

const BINANCE_WS = 'wss://stream.binance.com:9443/stream';

/** The `tickmesh dev` flags: every role in one process on the in-process adapters. */
export const DEV_FLAGS = {
  source: {
    schema: z.enum(['auto', 'binance', 'sim']).default('auto'),
    arg: 'auto|binance|sim',
    help: 'where trades come from (auto: binance if reachable)',
  },
  symbols: {
    schema: z.string().default('BTCUSDT,ETHUSDT,SOLUSDT,BNBUSDT,XRPUSDT'),
    arg: 'LIST',
    help: 'Binance symbols',
  },
  markets: {
    schema: z.string().default('BTC-USDT,ETH-USDT,SOL-USDT,BNB-USDT,XRP-USDT'),
    arg: 'LIST',
    help: 'simulator markets',
  },
  rate: {
    schema: z.coerce.number().positive().default(20),
    arg: 'N',
    help: 'simulator: mean trades per second per market',
  },
  klines: {
    schema: z.enum(['on', 'off']).default('on'),
    arg: 'on|off',
    help: "the venue's own klines beside its trades (the simulator publishes its own), for verified candles",
  },
  plantKlineDiscrepancy: {
    schema: plantedDiscrepancyFlag,
    arg: 'MARKET[:KIND]',
    help:
      "simulator: one discrepancy in MARKET's klines, to see a mismatch end to end: withheld-trade (default) " +
      'or field',
  },
  context: {
    schema: z.enum(['sim', 'off']).default('sim'),
    arg: 'sim|off',
    help: 'context (reference data, sentiment, news): simulated, labelled as such, or none',
  },
  wsUrl: { schema: z.string().default(BINANCE_WS), arg: 'URL', help: 'Binance WebSocket base URL' },
  partitions: { schema: intFlag(1).default(4), arg: 'N', help: 'partitions of the in-process log' },
  interval: { schema: z.string().default('1m'), arg: 'I', help: 'candle interval on screen' },
  intervals: {
    schema: z.string().default('1m,5m,15m,1h,4h,1d'),
    arg: 'LIST',
    help: "candle intervals; with 1s the trend model's first forecasts are scored within a minute",
  },
  dataDir: {
    schema: textFlag,
    arg: 'DIR',
    help: 'keep the PGlite database here across runs',
    defaultHelp: 'in memory',
  },
  metricsPort: {
    schema: intFlag(0, 65_535).default(9464),
    arg: 'N',
    help: '/metrics, /healthz, /readyz (0 picks a free port)',
  },
  apiPort: {
    schema: intFlag(0, 65_535).default(8080),
    arg: 'N',
    help: 'REST, WebSocket and the web dashboard (0 picks a free port)',
  },
  apiHost: { schema: z.string().min(1).default('127.0.0.1'), arg: 'ADDR', help: 'address the API listens on' },
  noView: { schema: z.boolean().default(false), help: 'no terminal view: log lines only' },
  logLevel: {
    schema: logLevelFlag.unwrap().optional(),
    arg: 'LEVEL',
    help: 'pino level',
    defaultHelp: 'info; warn with the view on a terminal',
  },
} as const satisfies FlagSpec;
