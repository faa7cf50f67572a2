import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { type ContextSourceConfig, contextSourceSchema } from '../ingest/context/config.js';
import type { VenueConfig } from '../ingest/ingestor.js';
import type { ProxySettings } from '../ingest/proxy/proxy-rule.js';
import { PLANT_KINDS } from '../ingest/sim-klines.js';
import { DEFAULT_TOPICS, type IngestTopics } from '../ingest/topics.js';
import { checkOkxContracts } from '../ingest/venues/okx-contracts.js';
import { LIVE_VENUES } from '../ingest/venues/registry.js';
import type { Interval } from '../market/interval.js';
import { VENUES, venueSymbol } from '../market/markets.js';
import { DEFAULT_MAX_EVENT_SKEW_MS } from '../market/trade-fields.js';
import { ConfigError } from '../runtime/errors.js';
import { KLINES_TOPIC } from '../verify/kline-record.js';
import type { KafkaSecurity } from './connection-security.js';
import { KAFKA_FLAGS, parseEndpoints } from './endpoints.js';
import {
  compressionFlag,
  intervalListFlag,
  KAFKA_PRODUCER_FLAGS,
  PROCESS_FLAGS,
  plantedDiscrepancyFlag,
  textFlag,
} from './flags.js';
import { type FlagSpec, type FlagValues, flagHelp, parseFlagValues, readArgs } from './parse-flags.js';

/** The `tickmesh ingest` flags and config file: one schema, parsed once in cmd/, frozen. */

/** A number flag at least `min`, given as text. */
const num = (min: number) => z.coerce.number().min(min);

/** The topic flags of ingest and replay, over TICKMESH_*_TOPIC, over internal/ingest/topics.ts. */
export const INGEST_TOPIC_FLAGS = {
  tradesTopic: {
    schema: z.string().min(1).default(DEFAULT_TOPICS.trades),
    arg: 'NAME',
    env: 'TICKMESH_TRADES_TOPIC',
    help: 'trades topic',
  },
  rejectsTopic: {
    schema: z.string().min(1).default(DEFAULT_TOPICS.rejects),
    arg: 'NAME',
    env: 'TICKMESH_REJECTS_TOPIC',
    help: 'rejected trades topic',
  },
  gapsTopic: {
    schema: z.string().min(1).default(DEFAULT_TOPICS.gaps),
    arg: 'NAME',
    env: 'TICKMESH_GAPS_TOPIC',
    help: 'gaps topic',
  },
} as const satisfies FlagSpec;

/** The topics from the parsed topic flags; the klines topic where the command has one. */
export function ingestTopics(v: FlagValues<typeof INGEST_TOPIC_FLAGS>, klines?: string): IngestTopics {
  return Object.freeze({
    trades: v.tradesTopic,
    rejects: v.rejectsTopic,
    gaps: v.gapsTopic,
    ...(klines === undefined ? {} : { klines }),
  });
}

/** The intervals whose venue klines `tickmesh ingest` subscribes by default: the worker's default candles. */
export const DEFAULT_KLINE_INTERVALS = '1m,3m,5m,15m,30m,1h,2h,4h,6h,8h,12h,1d,1w';

/** The venues' own candles beside their trades (docs/CANDLES.md "Verified candles"). */
const INGEST_KLINE_FLAGS = {
  klinesTopic: {
    schema: z.string().min(1).default(KLINES_TOPIC),
    arg: 'NAME',
    env: 'TICKMESH_KLINES_TOPIC',
    help: "the venues' kline pushes (kline.v1); give it the trades topic's partition count",
  },
  klineIntervals: {
    schema: intervalListFlag(DEFAULT_KLINE_INTERVALS),
    arg: 'LIST',
    env: 'TICKMESH_KLINE_INTERVALS',
    help: "subscribe each venue's candle channel for these intervals, those it pushes (the simulator publishes them all)",
  },
  noKlines: {
    schema: z.boolean().default(false),
    help: 'trades only: no candle channel subscribed, nothing written to the klines topic',
  },
} as const satisfies FlagSpec;

const INGEST_VENUE_FLAGS = {
  venue: { schema: textFlag, arg: 'NAME', env: 'TICKMESH_INGEST_VENUE', help: 'one venue (use --config for several)' },
  symbols: {
    schema: textFlag,
    arg: 'LIST',
    env: 'TICKMESH_INGEST_SYMBOLS',
    help:
      "comma-separated, the venue's spelling or market ids: BTCUSDT,ETHUSDT (binance, bybit, " +
      'bybit-linear) BTC-USD (coinbase) BTC/USD or XBT/USD (kraken) BTC-USDT, BTC-USDT-SWAP (okx)',
  },
  stream: {
    schema: textFlag,
    arg: 'KIND',
    help: 'binance only: trade (every trade) or aggTrade (aggregated; other ids)',
    defaultHelp: 'trade',
  },
  wsUrl: {
    schema: textFlag,
    arg: 'URL',
    help: 'WebSocket endpoint (testnets, local servers)',
    defaultHelp: "the venue's public one",
  },
  restUrl: {
    schema: textFlag,
    arg: 'URL',
    help: 'REST base for gap backfill; "" disables backfill (gaps are then recorded, never skipped silently)',
    defaultHelp: "the venue's public one",
  },
  config: {
    schema: textFlag,
    arg: 'FILE',
    help:
      'JSON: {"venues":[{"venue":"binance","symbols":["BTCUSDT"],"wsUrl":"...","restUrl":"...",' +
      '"stream":"trade","staleAfterSeconds":60,"rate":20,"klines":false}, ...]} ("klines":false: that venue ' +
      'without its candle channel; okx "contractValues":{"BTC-USDT-SWAP":"0.01"}: base units per contract, ' +
      'else read from OKX); the flags above add one more venue to ' +
      'the file\'s list; the file\'s "sources":[{"kind":"reference","source":"coingecko"}, ' +
      '{"kind":"sentiment","source":"fear-greed"}, {"kind":"news","source":"rss","name":"coindesk","url":"..."}] ' +
      'adds context sources (docs/SOURCES.md)',
  },
  binanceApiKey: {
    schema: textFlag,
    arg: 'KEY',
    env: 'BINANCE_API_KEY',
    help: 'sent on Binance historicalTrades backfill requests',
  },
} as const satisfies FlagSpec;

const INGEST_CONNECTION_FLAGS = {
  staleAfterMs: {
    flag: 'stale-after',
    schema: num(0)
      .default(60)
      .transform((s) => s * 1000),
    arg: 'S',
    help: 'reconnect after S seconds without any frame; 0 disables',
  },
  pingIntervalMs: {
    flag: 'ping-interval',
    schema: num(0)
      .default(20)
      .transform((s) => s * 1000),
    arg: 'S',
    help: 'WebSocket ping every S seconds, reconnect if unanswered for 10 s',
  },
  maxMessageBytes: {
    flag: 'max-message-kb',
    schema: num(1)
      .default(1024)
      .transform((kb) => Math.floor(kb * 1024)),
    arg: 'N',
    help: 'a venue message (all its fragments) over N KiB closes the connection with 1009 and the feed reconnects',
  },
  maxFragments: {
    schema: num(1).default(1024).transform(Math.floor),
    arg: 'N',
    help: 'a venue message in more than N WebSocket frames (empty ones counted) closes the connection the same way',
  },
  maxQueueBytes: {
    flag: 'queue-mb',
    schema: num(1)
      .default(16)
      .transform((mb) => Math.floor(mb * 1024 * 1024)),
    arg: 'N',
    help: 'received frames held per connection before its socket is paused',
  },
  maxBackfill: { schema: num(0).default(50_000), arg: 'N', help: 'at most N missing trades fetched per gap' },
  maxEventSkewMs: {
    schema: num(0).default(DEFAULT_MAX_EVENT_SKEW_MS),
    arg: 'N',
    help: 'reject a trade whose event time lies more than N ms after its receive time (reason future-time)',
  },
  resumeTail: {
    schema: num(0).default(5_000).transform(Math.floor),
    arg: 'N',
    help:
      'at start, read back the last N records of each trades partition, so that a gap over a restart is ' +
      'detected and repeated trades dropped, as after a reconnect; 0 disables',
  },
  simRate: {
    schema: num(0.001).optional(),
    arg: 'N',
    help: 'sim: mean trades per second per market',
    defaultHelp: '20',
  },
  simSeed: { schema: num(0).optional(), arg: 'N', help: 'sim: random seed', defaultHelp: '1' },
  plantKlineDiscrepancy: {
    schema: plantedDiscrepancyFlag,
    arg: 'MARKET[:KIND]',
    help:
      "sim: plant one discrepancy in the simulator's klines of MARKET: withheld-trade (default: one trade " +
      'counted in its 1m kline, never published) or field (one 1m high off by one price unit)',
  },
  httpsProxy: {
    flag: 'https-proxy',
    schema: textFlag,
    arg: 'URL',
    env: 'HTTPS_PROXY',
    help: 'HTTP proxy (CONNECT) for the venues over TLS, WebSocket and REST (also https_proxy)',
  },
  httpProxy: {
    flag: 'http-proxy',
    schema: textFlag,
    arg: 'URL',
    env: 'HTTP_PROXY',
    help: 'HTTP proxy for ws:// and http:// venue URLs (also http_proxy)',
  },
  noProxy: {
    flag: 'no-proxy',
    schema: textFlag,
    arg: 'HOSTS',
    env: 'NO_PROXY',
    help: 'hosts, host:port, IPs, CIDRs or * reached without the proxy (also no_proxy)',
  },
} as const satisfies FlagSpec;

const INGEST_OUTPUT_FLAGS = {
  ...INGEST_TOPIC_FLAGS,
  ...KAFKA_PRODUCER_FLAGS,
  compression: {
    schema: compressionFlag,
    arg: 'KIND',
    help: 'zstd, gzip (for Kafka readers without zstd) or none',
  },
  maxBufferBytes: {
    flag: 'max-buffer-mb',
    schema: num(1)
      .default(64)
      .transform((mb) => mb * 1024 * 1024),
    arg: 'N',
    help: 'producer buffer: ingest slows down when Kafka lags by this much',
  },
  clientId: { schema: textFlag, arg: 'ID', help: 'Kafka client id', defaultHelp: 'tickmesh-ingest-<host>' },
} as const satisfies FlagSpec;

const INGEST_FLAGS = {
  ...INGEST_VENUE_FLAGS,
  ...INGEST_KLINE_FLAGS,
  ...INGEST_CONNECTION_FLAGS,
  ...KAFKA_FLAGS,
  ...INGEST_OUTPUT_FLAGS,
  ...PROCESS_FLAGS,
} as const satisfies FlagSpec;

export const INGEST_HELP = `tickmesh ingest: live exchange trades (or the simulator) into Kafka, normalized, deduplicated, gap-checked

usage: tickmesh ingest --venue NAME --symbols LIST [options]
       tickmesh ingest --config FILE [options]

venues: ${LIVE_VENUES.join(', ')}, sim (the built-in market simulator; its trades are labelled simulated)

what to ingest:
${flagHelp(INGEST_VENUE_FLAGS)}

the venues' own candles (kline channels beside the trades, for verified candles):
${flagHelp(INGEST_KLINE_FLAGS)}

connection behaviour:
${flagHelp(INGEST_CONNECTION_FLAGS)}

where it goes (flags override the environment):
${flagHelp({ ...KAFKA_FLAGS, ...INGEST_OUTPUT_FLAGS })}

process:
${flagHelp(PROCESS_FLAGS)}
`;

type IngestFlags = FlagValues<typeof INGEST_FLAGS>;

export type IngestConfig = Pick<
  IngestFlags,
  | 'compression'
  | 'kafkaProducer'
  | 'maxBufferBytes'
  | 'staleAfterMs'
  | 'pingIntervalMs'
  | 'maxMessageBytes'
  | 'maxFragments'
  | 'maxQueueBytes'
  | 'maxBackfill'
  | 'maxEventSkewMs'
  | 'resumeTail'
  | 'metricsPort'
  | 'logLevel'
> & {
  /** Venue connections through a proxy (internal/ingest/proxy); undefined: direct. */
  readonly proxy: ProxySettings | undefined;
  readonly venues: readonly VenueConfig[];
  /** Context sources (reference data, sentiment, news): internal/ingest/context. */
  readonly sources: readonly ContextSourceConfig[];
  readonly kafkaBrokers: readonly string[];
  readonly kafkaSecurity: KafkaSecurity | undefined;
  readonly topics: Required<IngestTopics>;
  readonly clientId: string;
  /** The venues' candle channels to subscribe; empty with --no-klines. */
  readonly klineIntervals: readonly Interval[];
};

const venueSchema = z.object({
  venue: z.enum(VENUES),
  symbols: z.array(z.string().min(1)).min(1),
  wsUrl: z.string().url().optional(),
  restUrl: z.union([z.string().url(), z.literal('')]).optional(),
  stream: z.enum(['trade', 'aggTrade']).optional(),
  staleAfterSeconds: z.number().min(0).optional(),
  maxStreamsPerConnection: z.number().int().min(1).max(1024).optional(),
  rate: z.number().positive().optional(),
  seed: z.number().int().optional(),
  klines: z.boolean().optional(),
  /** OKX: base units per contract of a swap or future; those not given are read from OKX. */
  contractValues: z.record(z.string().min(1), z.string().min(1)).optional(),
  plantKlineDiscrepancy: z.object({ market: z.string().min(1), kind: z.enum(PLANT_KINDS) }).optional(),
});
const fileSchema = z.object({
  venues: z.array(venueSchema).default([]),
  sources: z.array(contextSourceSchema).default([]),
});

/** Resolves symbols to the venue's spelling; a symbol that maps to no market is a config error. */
function venueFrom(raw: z.infer<typeof venueSchema>, apiKey: string | undefined): VenueConfig {
  const symbols = raw.symbols.map((s) => {
    const v = raw.venue === 'sim' ? s.toUpperCase() : venueSymbol(raw.venue, s);
    if (v === undefined) throw new ConfigError(`${raw.venue}: symbol '${s}' maps to no market`);
    return v;
  });
  const plant = raw.plantKlineDiscrepancy;
  if (plant !== undefined && (raw.venue !== 'sim' || !symbols.includes(plant.market))) {
    throw new ConfigError(`plant-kline-discrepancy: ${plant.market} is not one of the simulator's markets`);
  }
  const { staleAfterSeconds, contractValues, ...rest } = raw;
  if (contractValues !== undefined && raw.venue !== 'okx') {
    throw new ConfigError(`${raw.venue}: contractValues is for okx, whose derivatives' trades count contracts`);
  }
  const values: Record<string, string> = {};
  for (const [s, value] of Object.entries(contractValues ?? {})) {
    const v = venueSymbol(raw.venue, s);
    if (v === undefined || !symbols.includes(v)) {
      throw new ConfigError(`${raw.venue}: contractValues names '${s}', which is not one of its symbols`);
    }
    values[v] = value;
  }
  // The OKX adapter checks again before it connects; here a wrong config fails before ingest waits.
  if (raw.venue === 'okx') checkOkxContracts(symbols, values, raw.restUrl ?? 'default');
  return Object.freeze({
    ...rest,
    ...(contractValues === undefined ? {} : { contractValues: Object.freeze(values) }),
    symbols: Object.freeze(symbols),
    staleAfterMs: staleAfterSeconds === undefined ? undefined : staleAfterSeconds * 1000,
    apiKey: raw.venue.startsWith('binance') && apiKey ? apiKey : undefined,
  });
}

/** The venues and context sources of the config file. */
function readConfigFile(path: string): { venues: unknown[]; sources: ContextSourceConfig[] } {
  let file: unknown;
  try {
    file = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${path}`, { cause });
  }
  const parsed = fileSchema.safeParse(file);
  if (!parsed.success) throw new ConfigError(`${path}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function parseIngestConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): IngestConfig {
  const flags = readArgs(INGEST_FLAGS, argv);
  const v = parseFlagValues(INGEST_FLAGS, flags, env);
  const file = v.config === undefined ? { venues: [], sources: [] } : readConfigFile(v.config);
  const raws = file.venues;
  const sources = file.sources;
  if (v.venue !== undefined || v.symbols !== undefined) {
    raws.push({
      venue: v.venue,
      symbols: (v.symbols ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      wsUrl: v.wsUrl,
      restUrl: v.restUrl,
      stream: v.stream,
      rate: v.simRate,
      seed: v.simSeed,
      plantKlineDiscrepancy: v.plantKlineDiscrepancy,
    });
  }
  if (raws.length === 0 && sources.length === 0) throw new ConfigError('give --venue and --symbols, or --config');
  const venues = raws.map((raw) => {
    const parsed = venueSchema.safeParse(raw);
    if (!parsed.success) throw new ConfigError(`invalid venue:\n${z.prettifyError(parsed.error)}`);
    return venueFrom(parsed.data, v.binanceApiKey);
  });
  const endpoints = parseEndpoints(flags, env);
  if (endpoints.kafkaBrokers.length === 0) throw new ConfigError('no Kafka brokers (--kafka-brokers or KAFKA_BROKERS)');
  return Object.freeze({
    venues: Object.freeze(venues),
    sources: Object.freeze(sources),
    kafkaBrokers: endpoints.kafkaBrokers,
    kafkaSecurity: endpoints.kafkaSecurity,
    topics: ingestTopics(v, v.klinesTopic) as Required<IngestTopics>,
    klineIntervals: Object.freeze(v.noKlines ? [] : v.klineIntervals),
    compression: v.compression,
    kafkaProducer: v.kafkaProducer,
    maxBufferBytes: v.maxBufferBytes,
    clientId: v.clientId ?? `tickmesh-ingest-${hostname()}`,
    staleAfterMs: v.staleAfterMs,
    pingIntervalMs: v.pingIntervalMs,
    maxMessageBytes: v.maxMessageBytes,
    maxFragments: v.maxFragments,
    maxQueueBytes: v.maxQueueBytes,
    maxBackfill: v.maxBackfill,
    maxEventSkewMs: v.maxEventSkewMs,
    resumeTail: v.resumeTail,
    metricsPort: v.metricsPort,
    logLevel: v.logLevel,
    proxy: proxySettings(v, env),
  });
}

/** The proxy flags, or the lower-case variables curl also reads; each URL checked here. */
function proxySettings(v: IngestFlags, env: Readonly<Record<string, string | undefined>>): ProxySettings | undefined {
  const pick = (given: string | undefined, lower: string) => (given ?? env[lower])?.trim() || undefined;
  const httpsProxy = pick(v.httpsProxy, 'https_proxy');
  const httpProxy = pick(v.httpProxy, 'http_proxy');
  const noProxy = pick(v.noProxy, 'no_proxy');
  for (const [name, url] of [
    ['https-proxy', httpsProxy],
    ['http-proxy', httpProxy],
  ] as const) {
    if (url === undefined) continue;
    const parsed = URL.canParse(url.includes('://') ? url : `http://${url}`)
      ? new URL(url.includes('://') ? url : `http://${url}`)
      : undefined;
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new ConfigError(`--${name}: expected an http:// or https:// proxy URL, got '${url}'`);
    }
  }
  if (!httpsProxy && !httpProxy) return undefined;
  return Object.freeze({
    ...(httpsProxy ? { httpsProxy } : {}),
    ...(httpProxy ? { httpProxy } : {}),
    ...(noProxy ? { noProxy } : {}),
  });
}
