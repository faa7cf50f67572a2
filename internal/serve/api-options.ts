import { z } from 'zod';
import { boolFlag, intervalListFlag, intFlag, sqlSchemaFlag } from '../config/flags.js';
import { INTERVALS, type Interval } from '../market/interval.js';
import { ConfigError } from '../runtime/errors.js';
import { type ApiConfig, apiConfig } from './api-config.js';

/** The `tickmesh api` settings: one schema for its flags, parsed once in cmd/, frozen. */
export interface ApiOptions {
  readonly port: number;
  readonly host: string;
  readonly schema: string;
  readonly migrate: boolean;
  readonly intervals: readonly Interval[];
  readonly dashboardInterval: Interval;
  readonly sourceLabel: string;
  readonly streamBuffer: number;
  readonly slowClientMs: number;
  readonly streamMaxConnectionsPerAddress: number;
  readonly streamMaxSubscriptions: number;
  readonly streamMessagesPerSecond: number;
  readonly streamMaxMessageBytes: number;
  readonly streamPingMs: number;
  readonly streamAllowedOrigins: readonly string[];
  readonly marketIdleMs: number;
  readonly maxMarkets: number;
  readonly logLevel: string;
}

const int = intFlag;
const interval = z.enum(INTERVALS);

const schema = z.object({
  port: int(0, 65_535).default(8080),
  host: z.string().min(1).default('0.0.0.0'),
  schema: sqlSchemaFlag.default('public'),
  migrate: boolFlag.default(true),
  intervals: intervalListFlag(INTERVALS.join(',')),
  'dashboard-interval': interval.default('1m'),
  'source-label': z.string().min(1).default('workers over NATS'),
  'stream-buffer': int(1, 1_000_000).default(2_000),
  'slow-client-ms': int(100).default(10_000),
  'stream-max-connections-per-address': int(1, 100_000).default(20),
  'stream-max-subscriptions': int(1, 1_000).default(16),
  'stream-messages-per-second': int(1, 10_000).default(10),
  'stream-max-message-bytes': int(256, 1 << 20).default(16 << 10),
  'stream-ping-ms': int(1_000, 3_600_000).default(30_000),
  'stream-allowed-origins': z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim().toLowerCase())
        .filter((o) => o !== ''),
    )
    .refine(
      (list) => list.every((o) => o === '*' || isOrigin(o)),
      'a comma-separated list of scheme://host[:port] or *',
    ),
  'market-idle-ms': int(1_000).default(15 * 60_000),
  'max-markets': int(1, 10_000_000).default(10_000),
  'log-level': z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export const API_OPTION_NAMES = Object.keys(schema.shape);

export const API_OPTIONS_HELP = `  --port N                     HTTP and WebSocket port (default 8080; 0 picks a free port)
  --host ADDR                  address to listen on (default 0.0.0.0)
  --schema NAME                PostgreSQL schema the workers write (default public)
  --migrate true|false         apply the schema migrations at start, so the API works before any worker has run (default true)
  --intervals LIST             candle intervals the API accepts (default all: ${INTERVALS.join(',')})
  --dashboard-interval I       interval of the dashboard's table and chart (default 1m)
  --source-label TEXT          where the data comes from, shown on the dashboard (default "workers over NATS")
  --stream-buffer N            messages buffered per WebSocket subscription before the oldest are dropped (default 2000)
  --slow-client-ms N           close a WebSocket client that reads nothing for this long (default 10000)
  --stream-max-connections-per-address N
                               WebSocket connections open at once from one client address (default 20)
  --stream-max-subscriptions N bus subjects one WebSocket subscribe may ask for (default 16)
  --stream-messages-per-second N
                               messages a WebSocket client may send per second; faster is closed with 1008 (default 10)
  --stream-max-message-bytes N largest message a WebSocket client may send; larger is closed with 1009 (default 16384)
  --stream-ping-ms N           WebSocket ping period; a client whose pong does not answer it by the next is dropped (default 30000)
  --stream-allowed-origins LIST
                               browser origins (scheme://host[:port], comma-separated, or *) allowed besides the API's
                               own; clients without an Origin header are always allowed (default: same origin only)
  --market-idle-ms N           forget a market with no stored candles after this long without a price (default 900000)
  --max-markets N              markets the API's market list holds at most (default 10000)
  --log-level LEVEL            pino level (default info)`;

export function parseApiOptions(flags: Readonly<Record<string, string | undefined>>): ApiOptions {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid api option: ${issues}`);
  }
  const v = parsed.data;
  if (!v.intervals.includes(v['dashboard-interval'])) {
    throw new ConfigError(`--dashboard-interval ${v['dashboard-interval']} is not among --intervals`);
  }
  return Object.freeze({
    port: v.port,
    host: v.host,
    schema: v.schema,
    migrate: v.migrate,
    intervals: Object.freeze([...v.intervals]),
    dashboardInterval: v['dashboard-interval'],
    sourceLabel: v['source-label'],
    streamBuffer: v['stream-buffer'],
    slowClientMs: v['slow-client-ms'],
    streamMaxConnectionsPerAddress: v['stream-max-connections-per-address'],
    streamMaxSubscriptions: v['stream-max-subscriptions'],
    streamMessagesPerSecond: v['stream-messages-per-second'],
    streamMaxMessageBytes: v['stream-max-message-bytes'],
    streamPingMs: v['stream-ping-ms'],
    streamAllowedOrigins: Object.freeze(v['stream-allowed-origins']),
    marketIdleMs: v['market-idle-ms'],
    maxMarkets: v['max-markets'],
    logLevel: v['log-level'],
  });
}

/** The server's config from the options; whether the data is simulated is left to the markets seen. */
export function apiConfigFromOptions(o: ApiOptions): ApiConfig {
  return apiConfig({
    intervals: o.intervals,
    dashboardInterval: o.dashboardInterval,
    source: { label: o.sourceLabel, simulated: undefined },
    marketIdleMs: o.marketIdleMs,
    maxMarkets: o.maxMarkets,
    stream: {
      bufferMessages: o.streamBuffer,
      slowClientMs: o.slowClientMs,
      maxConnectionsPerAddress: o.streamMaxConnectionsPerAddress,
      maxSubscriptions: o.streamMaxSubscriptions,
      messagesPerSecond: o.streamMessagesPerSecond,
      maxPayloadBytes: o.streamMaxMessageBytes,
      pingMs: o.streamPingMs,
      allowedOrigins: o.streamAllowedOrigins,
    },
    listen: { port: o.port, host: o.host },
  });
}

/** `scheme://host[:port]` and nothing more: what a browser sends as Origin. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return url.origin === value;
  } catch {
    return false;
  }
}
