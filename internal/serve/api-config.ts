import { INTERVALS, type Interval } from '../market/interval.js';
import { ConfigError } from '../runtime/errors.js';
import type { RetentionPolicy } from '../sink/store.js';
import type { ApiKey } from './api-keys.js';

/** What the API knows about where the data comes from, shown by GET /api/v1/info and the dashboard. */
export interface DataSource {
  /** For people: `binance live`, `SIMULATED (exchange unreachable)`, `workers over NATS`. */
  readonly label: string;
  /**
   * True when this process knows the trades are simulated (tickmesh dev without an exchange),
   * false when it knows they are real, undefined when it cannot know (a standalone API): then
   * markets of exchange `sim` are what tells.
   */
  readonly simulated: boolean | undefined;
}

export interface StreamConfig {
  /** Messages buffered per bus subscription of one connection; the oldest are dropped past it. */
  readonly bufferMessages: number;
  /** Bytes queued on a socket above which the connection stops taking messages from its buffer. */
  readonly maxSocketBytes: number;
  /** A connection whose socket stays above maxSocketBytes this long is closed as too slow. */
  readonly slowClientMs: number;
  /** Keys remembered per connection to drop repeated bus messages. */
  readonly dedupeKeys: number;
  /** Protocol ping period; a client whose pong does not answer the last ping by the next one is disconnected. */
  readonly pingMs: number;
  /** Largest message a client may send; a larger one closes the connection with 1009. */
  readonly maxPayloadBytes: number;
  /** Open connections per client address; more are refused (429, or 1008 when they raced past the check). */
  readonly maxConnectionsPerAddress: number;
  /** Bus subjects one subscribe may ask for; a larger one is answered with an error. */
  readonly maxSubscriptions: number;
  /** Client messages per second per connection (burst: as many); a client sending faster is closed with 1008. */
  readonly messagesPerSecond: number;
  /**
   * Origins (`https://host:port`) a browser may connect from, besides the API's own; `*` allows
   * any. A client that sends no Origin (not a browser) is always allowed.
   */
  readonly allowedOrigins: readonly string[];
}

export interface ApiConfig {
  /** Intervals the API accepts (the workers' intervals). */
  readonly intervals: readonly Interval[];
  /** The interval of the dashboard's table and chart. */
  readonly dashboardInterval: Interval;
  readonly source: DataSource;
  /** Rows returned by GET /api/v1/candles without a limit, and the most allowed. */
  readonly candleLimit: { readonly default: number; readonly max: number };
  readonly alertLimit: { readonly default: number; readonly max: number };
  /** How often the market list is re-read from the Store (the bus adds markets as they trade). */
  readonly marketsRefreshMs: number;
  /** A market with no stored candles is forgotten when no price of it came for this long. */
  readonly marketIdleMs: number;
  /** Markets the directory holds at most; past it, the one seen longest ago is forgotten. */
  readonly maxMarkets: number;
  readonly stream: StreamConfig;
  /**
   * With keys, every route but the probes and the dashboard page needs one of them
   * (internal/serve/api-auth.ts); undefined leaves the API open (`tickmesh dev`, local use).
   */
  readonly auth?: { readonly keys: readonly ApiKey[] };
  /** REST and stream requests a minute per API key, or per address without one; 0: no limit. */
  readonly rateLimitPerMinute: number;
  /** Origins whose pages may call the REST routes (CORS); empty: none, `*`: any. */
  readonly corsOrigins: readonly string[];
  /**
   * The workers' retention: a range that starts before it is refused (400) rather than answered
   * with the rows that happen not to be deleted yet. Empty: every range is served.
   */
  readonly retention: RetentionPolicy;
  /** Where start() listens; omitted, it does not listen (tests use inject()). Port 0 picks a free one. */
  readonly listen?: { readonly port: number; readonly host: string };
}

export const DEFAULT_API_CONFIG: ApiConfig = Object.freeze({
  intervals: INTERVALS,
  dashboardInterval: '1m',
  source: Object.freeze({ label: 'unknown', simulated: undefined }),
  candleLimit: Object.freeze({ default: 500, max: 5_000 }),
  alertLimit: Object.freeze({ default: 100, max: 1_000 }),
  marketsRefreshMs: 30_000,
  marketIdleMs: 15 * 60_000,
  maxMarkets: 10_000,
  rateLimitPerMinute: 0,
  corsOrigins: Object.freeze([]),
  retention: Object.freeze({}),
  stream: Object.freeze({
    bufferMessages: 2_000,
    maxSocketBytes: 1 << 20,
    slowClientMs: 10_000,
    dedupeKeys: 10_000,
    pingMs: 30_000,
    maxPayloadBytes: 16 << 10,
    maxConnectionsPerAddress: 20,
    maxSubscriptions: 16,
    messagesPerSecond: 10,
    allowedOrigins: Object.freeze([]),
  }),
});

/** DEFAULT_API_CONFIG with `over` applied (stream settings merged), frozen. */
export function apiConfig(
  over: Partial<Omit<ApiConfig, 'stream'>> & { stream?: Partial<StreamConfig> } = {},
): ApiConfig {
  const { stream, ...rest } = over;
  const config: ApiConfig = {
    ...DEFAULT_API_CONFIG,
    ...rest,
    stream: Object.freeze({ ...DEFAULT_API_CONFIG.stream, ...stream }),
  };
  if (!config.intervals.includes(config.dashboardInterval)) {
    throw new ConfigError(`dashboard interval ${config.dashboardInterval} is not among the intervals`);
  }
  return Object.freeze(config);
}
