import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { KAFKA_SECURITY_FLAG_NAMES, type KafkaSecurity, pickFlags } from '../../internal/config/connection-security.js';
import { parseEndpoints } from '../../internal/config/endpoints.js';
import { compressionFlag } from '../../internal/config/flags.js';
import { type ContextSourceConfig, contextSourceSchema } from '../../internal/ingest/context/config.js';
import type { VenueConfig } from '../../internal/ingest/ingestor.js';
import { DEFAULT_TOPICS, type IngestTopics } from '../../internal/ingest/topics.js';
import { LIVE_VENUES } from '../../internal/ingest/venues/registry.js';
import type { Compression } from '../../internal/log/kafka-producer.js';
import { VENUES, venueSymbol } from '../../internal/market/markets.js';
import { DEFAULT_MAX_EVENT_SKEW_MS } from '../../internal/market/trade-fields.js';
import { ConfigError } from '../../internal/runtime/errors.js';

export const INGEST_HELP = `tickmesh ingest: live exchange trades (or the simulator) into Kafka, normalized, deduplicated, gap-checked

usage: tickmesh ingest --venue NAME --symbols LIST [options]
       tickmesh ingest --config FILE [options]

venues: ${LIVE_VENUES.join(', ')}, sim (the built-in market simulator; its trades are labelled simulated)

what to ingest:
  --venue NAME              one venue (use --config for several)                       (TICKMESH_INGEST_VENUE)
  --symbols LIST            comma-separated, the venue's spelling or market ids:
                            BTCUSDT,ETHUSDT (binance, bybit, bybit-linear) BTC-USD (coinbase)
                            BTC/USD or XBT/USD (kraken) BTC-USDT, BTC-USDT-SWAP (okx)
                                                                                       (TICKMESH_INGEST_SYMBOLS)
  --stream KIND             binance only: trade (every trade; default) or aggTrade (aggregated; other ids)
  --ws-url URL              WebSocket endpoint (testnets, local servers); default: the venue's public one
  --rest-url URL            REST base for gap backfill; default: the venue's public one; "" disables backfill
                            (gaps are then recorded, never skipped silently)
  --config FILE             JSON: {"venues":[{"venue":"binance","symbols":["BTCUSDT"],"wsUrl":"...",
                            "restUrl":"...","stream":"trade","staleAfterSeconds":60,"rate":20}, ...]}
                            flags above add one more venue to the file's list; the file's
                            "sources":[{"kind":"reference","source":"coingecko"}, {"kind":"sentiment",
                            "source":"fear-greed"}, {"kind":"news","source":"rss","name":"coindesk",
                            "url":"..."}] adds context sources (docs/SOURCES.md)
  --binance-api-key KEY     sent on Binance historicalTrades backfill requests          (BINANCE_API_KEY)

connection behaviour:
  --stale-after S           reconnect after S seconds without any frame; 0 disables; default 60
  --ping-interval S         WebSocket ping every S seconds, reconnect if unanswered for 10 s; default 20
  --max-message-kb N        a venue message (all its fragments) over N KiB closes the connection with
                            1009 and the feed reconnects; default 1024
  --max-fragments N         a venue message in more than N WebSocket frames (empty ones counted)
                            closes the connection the same way; default 1024
  --queue-mb N              received frames held per connection before its socket is paused; default 16
  --max-backfill N          at most N missing trades fetched per gap; default 50000
  --max-event-skew-ms N     reject a trade whose event time lies more than N ms after its receive
                            time (reason future-time); default 120000
  --resume-tail N           at start, read back the last N records of each trades partition, so
                            that a gap over a restart is detected and repeated trades dropped,
                            as after a reconnect; 0 disables; default 5000
  --sim-rate N              sim: mean trades per second per market; default 20
  --sim-seed N              sim: random seed; default 1

where it goes (flags override the environment):
  --kafka-brokers LIST      Kafka bootstrap brokers, comma-separated                   (KAFKA_BROKERS)
  --trades-topic NAME       default ${DEFAULT_TOPICS.trades}                          (TICKMESH_TRADES_TOPIC)
  --rejects-topic NAME      default ${DEFAULT_TOPICS.rejects}                (TICKMESH_REJECTS_TOPIC)
  --gaps-topic NAME         default ${DEFAULT_TOPICS.gaps}                            (TICKMESH_GAPS_TOPIC)
  --compression KIND        zstd (default), gzip (for Kafka readers without zstd) or none
  --max-buffer-mb N         producer buffer: ingest slows down when Kafka lags by this much; default 64
  --client-id ID            Kafka client id; default tickmesh-ingest-<host>

process:
  --metrics-port PORT       /metrics /healthz /readyz; 0 picks a free port; default 9464 (TICKMESH_METRICS_PORT)
  --log-level LEVEL         default info                                               (LOG_LEVEL)
`;

export interface IngestConfig {
  readonly venues: readonly VenueConfig[];
  /** Context sources (reference data, sentiment, news): internal/ingest/context. */
  readonly sources: readonly ContextSourceConfig[];
  readonly kafkaBrokers: readonly string[];
  readonly kafkaSecurity: KafkaSecurity | undefined;
  readonly topics: IngestTopics;
  readonly compression: Compression;
  readonly maxBufferBytes: number;
  readonly clientId: string;
  readonly staleAfterMs: number;
  readonly pingIntervalMs: number;
  /** Per venue connection: the largest message, its most frames, and the frame bytes queued (feed.ts). */
  readonly maxMessageBytes: number;
  readonly maxFragments: number;
  readonly maxQueueBytes: number;
  readonly maxBackfill: number;
  /** How far an event time may lie after its receive time (checkTrade); past it, rejected `future-time`. */
  readonly maxEventSkewMs: number;
  /** Records read back per trades partition at start (readProducedIds); 0: none. */
  readonly resumeTail: number;
  readonly metricsPort: number;
  readonly logLevel: string;
}

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
});
const fileSchema = z.object({
  venues: z.array(venueSchema).default([]),
  sources: z.array(contextSourceSchema).default([]),
});

const FLAGS = [
  'venue',
  'symbols',
  'stream',
  'ws-url',
  'rest-url',
  'config',
  'binance-api-key',
  'stale-after',
  'ping-interval',
  'max-message-kb',
  'max-fragments',
  'queue-mb',
  'max-backfill',
  'max-event-skew-ms',
  'resume-tail',
  'sim-rate',
  'sim-seed',
  'kafka-brokers',
  ...KAFKA_SECURITY_FLAG_NAMES,
  'trades-topic',
  'rejects-topic',
  'gaps-topic',
  'compression',
  'max-buffer-mb',
  'client-id',
  'metrics-port',
  'log-level',
] as const;

function numberFlag(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new ConfigError(`--${name} must be a number >= ${min}`);
  return n;
}

/** Resolves symbols to the venue's spelling; a symbol that maps to no market is a config error. */
function venueFrom(raw: z.infer<typeof venueSchema>, apiKey: string | undefined): VenueConfig {
  const symbols = raw.symbols.map((s) => {
    const v = raw.venue === 'sim' ? s.toUpperCase() : venueSymbol(raw.venue, s);
    if (v === undefined) throw new ConfigError(`${raw.venue}: symbol '${s}' maps to no market`);
    return v;
  });
  return Object.freeze({
    venue: raw.venue,
    symbols: Object.freeze(symbols),
    ...(raw.wsUrl !== undefined ? { wsUrl: raw.wsUrl } : {}),
    ...(raw.restUrl !== undefined ? { restUrl: raw.restUrl } : {}),
    ...(raw.stream !== undefined ? { stream: raw.stream } : {}),
    ...(raw.staleAfterSeconds !== undefined ? { staleAfterMs: raw.staleAfterSeconds * 1000 } : {}),
    ...(raw.maxStreamsPerConnection !== undefined ? { maxStreamsPerConnection: raw.maxStreamsPerConnection } : {}),
    ...(raw.rate !== undefined ? { rate: raw.rate } : {}),
    ...(raw.seed !== undefined ? { seed: raw.seed } : {}),
    ...(apiKey && raw.venue.startsWith('binance') ? { apiKey } : {}),
  });
}

export function parseIngestConfig(argv: readonly string[], env: NodeJS.ProcessEnv): IngestConfig {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      allowPositionals: false,
      options: Object.fromEntries(FLAGS.map((name) => [name, { type: 'string' as const }])),
    }).values as Record<string, string | undefined>;
  } catch (cause) {
    throw new ConfigError(`ingest: ${(cause as Error).message}`, { cause });
  }
  const apiKey = values['binance-api-key'] ?? (env.BINANCE_API_KEY || undefined);
  const raws: unknown[] = [];
  const sources: ContextSourceConfig[] = [];
  if (values.config) {
    let file: unknown;
    try {
      file = JSON.parse(readFileSync(values.config, 'utf8'));
    } catch (cause) {
      throw new ConfigError(`ingest: cannot read config file ${values.config}`, { cause });
    }
    const parsed = fileSchema.safeParse(file);
    if (!parsed.success) throw new ConfigError(`ingest: ${values.config}:\n${z.prettifyError(parsed.error)}`);
    raws.push(...parsed.data.venues);
    sources.push(...parsed.data.sources);
  }
  const venue = values.venue ?? (env.TICKMESH_INGEST_VENUE || undefined);
  const symbols = values.symbols ?? (env.TICKMESH_INGEST_SYMBOLS || undefined);
  if (venue !== undefined || symbols !== undefined) {
    raws.push({
      venue,
      symbols: (symbols ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      ...(values['ws-url'] !== undefined ? { wsUrl: values['ws-url'] } : {}),
      ...(values['rest-url'] !== undefined ? { restUrl: values['rest-url'] } : {}),
      ...(values.stream !== undefined ? { stream: values.stream } : {}),
      ...(values['sim-rate'] !== undefined ? { rate: numberFlag('sim-rate', values['sim-rate'], 20, 0.001) } : {}),
      ...(values['sim-seed'] !== undefined ? { seed: numberFlag('sim-seed', values['sim-seed'], 1) } : {}),
    });
  }
  if (raws.length === 0 && sources.length === 0)
    throw new ConfigError('ingest: give --venue and --symbols, or --config');
  const venues = raws.map((raw) => {
    const parsed = venueSchema.safeParse(raw);
    if (!parsed.success) throw new ConfigError(`ingest: invalid venue:\n${z.prettifyError(parsed.error)}`);
    return venueFrom(parsed.data, apiKey);
  });
  const endpoints = parseEndpoints(
    { 'kafka-brokers': values['kafka-brokers'], ...pickFlags(values, KAFKA_SECURITY_FLAG_NAMES) },
    env,
  );
  if (endpoints.kafkaBrokers.length === 0)
    throw new ConfigError('ingest: no Kafka brokers (--kafka-brokers or KAFKA_BROKERS)');
  const compression = compressionFlag(values.compression);
  return Object.freeze({
    venues: Object.freeze(venues),
    sources: Object.freeze(sources),
    kafkaBrokers: endpoints.kafkaBrokers,
    kafkaSecurity: endpoints.kafkaSecurity,
    topics: parseTopics(values, env),
    compression,
    maxBufferBytes: numberFlag('max-buffer-mb', values['max-buffer-mb'], 64, 1) * 1024 * 1024,
    clientId: values['client-id'] ?? `tickmesh-ingest-${hostname()}`,
    staleAfterMs: numberFlag('stale-after', values['stale-after'], 60) * 1000,
    pingIntervalMs: numberFlag('ping-interval', values['ping-interval'], 20) * 1000,
    maxMessageBytes: Math.floor(numberFlag('max-message-kb', values['max-message-kb'], 1024, 1) * 1024),
    maxFragments: Math.floor(numberFlag('max-fragments', values['max-fragments'], 1024, 1)),
    maxQueueBytes: Math.floor(numberFlag('queue-mb', values['queue-mb'], 16, 1) * 1024 * 1024),
    maxBackfill: numberFlag('max-backfill', values['max-backfill'], 50_000),
    maxEventSkewMs: numberFlag('max-event-skew-ms', values['max-event-skew-ms'], DEFAULT_MAX_EVENT_SKEW_MS),
    resumeTail: Math.floor(numberFlag('resume-tail', values['resume-tail'], 5_000)),
    metricsPort: numberFlag('metrics-port', values['metrics-port'] ?? env.TICKMESH_METRICS_PORT, 9464),
    logLevel: values['log-level'] ?? (env.LOG_LEVEL || 'info'),
  });
}

/** Topic flags over TICKMESH_*_TOPIC over the defaults in internal/ingest/topics.ts. */
export function parseTopics(values: Record<string, string | undefined>, env: NodeJS.ProcessEnv): IngestTopics {
  return Object.freeze({
    trades: values['trades-topic'] ?? (env.TICKMESH_TRADES_TOPIC || DEFAULT_TOPICS.trades),
    rejects: values['rejects-topic'] ?? (env.TICKMESH_REJECTS_TOPIC || DEFAULT_TOPICS.rejects),
    gaps: values['gaps-topic'] ?? (env.TICKMESH_GAPS_TOPIC || DEFAULT_TOPICS.gaps),
  });
}
