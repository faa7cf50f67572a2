import { z } from 'zod';
import { INTERVALS } from '../market/interval.js';
import { ConfigError } from '../runtime/errors.js';
import type { RetentionPolicy } from '../sink/store.js';
import { boolFlag, intervalListFlag, intFlag, logLevelFlag, sqlSchemaFlag } from './flags.js';
import { type FlagSpec, type FlagValues, flagHelp, flagName, parseFlagValues, type RawFlags } from './parse-flags.js';
import { alertRetentionFlag, candleRetentionFlag, retentionPolicy } from './retention.js';

/** The `tickmesh api` flags: one schema, parsed once in cmd/, frozen (internal/serve/api-options.ts maps them). */

const int = intFlag;

/** `scheme://host[:port]` and nothing more: what a browser sends as Origin. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return url.origin === value;
  } catch {
    return false;
  }
}

const originList = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((o) => o.trim().toLowerCase())
      .filter((o) => o !== ''),
  )
  .refine((list) => list.every((o) => o === '*' || isOrigin(o)), 'a comma-separated list of scheme://host[:port] or *');

export const API_FLAGS = {
  port: { schema: int(0, 65_535).default(8080), arg: 'N', help: 'HTTP and WebSocket port (0 picks a free port)' },
  metricsPort: {
    schema: int(0, 65_535).default(9464),
    arg: 'PORT',
    env: 'TICKMESH_METRICS_PORT',
    help: 'internal port of /metrics, /healthz and /readyz with its reason, never the public one; 0 picks a free port',
  },
  host: { schema: z.string().min(1).default('0.0.0.0'), arg: 'ADDR', help: 'address to listen on' },
  apiKeysFile: {
    schema: z.string().min(1).optional(),
    arg: 'PATH',
    env: 'TICKMESH_API_KEYS_FILE',
    help: "file of accepted API keys' SHA-256 hashes, one a line: <sha256> [name] [read] (tickmesh api-key)",
  },
  auth: {
    schema: z.enum(['open', 'keys']).optional(),
    arg: 'open|keys',
    help: 'keys: every /api route needs a key of --api-keys-file; open: no key',
    defaultHelp: 'keys with --api-keys-file, else open',
  },
  rateLimitPerMinute: {
    schema: int(0, 10_000_000).default(600),
    arg: 'N',
    help: 'requests a minute per API key, or per client address without one (429 over it); 0: no limit',
  },
  corsOrigins: {
    schema: originList,
    arg: 'LIST',
    help: 'origins (scheme://host[:port], comma-separated, or *) whose pages may call the REST routes',
    defaultHelp: 'none: CORS off',
  },
  schema: { schema: sqlSchemaFlag.default('public'), arg: 'NAME', help: 'PostgreSQL schema the workers write' },
  migrate: {
    schema: boolFlag.default(true),
    arg: 'true|false',
    help: 'apply the schema migrations at start, so the API works before any worker has run',
  },
  intervals: {
    schema: intervalListFlag(INTERVALS.join(',')),
    arg: 'LIST',
    help: 'candle intervals the API accepts',
    defaultHelp: `all: ${INTERVALS.join(',')}`,
  },
  dashboardInterval: {
    schema: z.enum(INTERVALS).default('1m'),
    arg: 'I',
    help: "interval of the dashboard's table and chart",
  },
  sourceLabel: {
    schema: z.string().min(1).default('workers over NATS'),
    arg: 'TEXT',
    help: 'where the data comes from, shown on the dashboard',
    defaultHelp: '"workers over NATS"',
  },
  streamBuffer: {
    schema: int(1, 1_000_000).default(2_000),
    arg: 'N',
    help: 'messages buffered per WebSocket subscription before the oldest are dropped',
  },
  slowClientMs: {
    schema: int(100).default(10_000),
    arg: 'N',
    help: 'close a WebSocket client that reads nothing for this long',
  },
  streamMaxConnectionsPerAddress: {
    schema: int(1, 100_000).default(20),
    arg: 'N',
    help: 'WebSocket connections open at once from one client address',
  },
  streamMaxSubscriptions: {
    schema: int(1, 1_000).default(16),
    arg: 'N',
    help: 'bus subjects one WebSocket subscribe may ask for',
  },
  streamMessagesPerSecond: {
    schema: int(1, 10_000).default(10),
    arg: 'N',
    help: 'messages a WebSocket client may send per second; faster is closed with 1008',
  },
  streamMaxMessageBytes: {
    schema: int(256, 1 << 20).default(16 << 10),
    arg: 'N',
    help: 'largest message a WebSocket client may send; larger is closed with 1009',
  },
  streamPingMs: {
    schema: int(1_000, 3_600_000).default(30_000),
    arg: 'N',
    help: 'WebSocket ping period; a client whose pong does not answer it by the next is dropped',
  },
  streamAllowedOrigins: {
    schema: originList,
    arg: 'LIST',
    help:
      "browser origins (scheme://host[:port], comma-separated, or *) allowed besides the API's own; " +
      'clients without an Origin header are always allowed',
    defaultHelp: 'same origin only',
  },
  marketIdleMs: {
    schema: int(1_000).default(15 * 60_000),
    arg: 'N',
    help: 'forget a market with no stored candles after this long without a price',
  },
  maxMarkets: {
    schema: int(1, 10_000_000).default(10_000),
    arg: 'N',
    help: "markets the API's market list holds at most",
  },
  candleRetention: {
    schema: candleRetentionFlag(''),
    arg: 'LIST',
    help:
      "the workers' --candle-retention: a candle, indicator or prediction range that starts before an " +
      "interval's retention is refused with 400",
    defaultHelp: 'none: every range is served',
  },
  alertRetention: {
    schema: alertRetentionFlag('forever'),
    arg: 'DURATION',
    help: "the workers' --alert-retention: an alert range that starts before it is refused with 400",
  },
  logLevel: { schema: logLevelFlag, arg: 'LEVEL', help: 'pino level' },
} as const satisfies FlagSpec;

/** The options, `auth` resolved: keys when a keys file is given, else open; the two retention flags as one policy. */
export type ApiOptions = Omit<FlagValues<typeof API_FLAGS>, 'auth' | 'candleRetention' | 'alertRetention'> & {
  readonly auth: 'open' | 'keys';
  readonly retention: RetentionPolicy;
};

/** The flag names, for the chart test that checks the Deployment's arguments. */
export const API_FLAG_NAMES = Object.entries(API_FLAGS).map(([key, f]) => flagName(key, f));

export const API_FLAGS_HELP = flagHelp(API_FLAGS);

/** The API's options from raw flags (by flag name); ConfigError naming a bad one. */
export function parseApiOptions(flags: RawFlags, env: Readonly<Record<string, string | undefined>> = {}): ApiOptions {
  const { candleRetention, alertRetention, ...o } = parseFlagValues(API_FLAGS, flags, env);
  if (!o.intervals.includes(o.dashboardInterval)) {
    throw new ConfigError(`--dashboard-interval ${o.dashboardInterval} is not among --intervals`);
  }
  if (o.auth === 'keys' && o.apiKeysFile === undefined) {
    throw new ConfigError('--auth keys needs --api-keys-file (or TICKMESH_API_KEYS_FILE)');
  }
  return Object.freeze({
    ...o,
    auth: o.auth ?? (o.apiKeysFile === undefined ? 'open' : 'keys'),
    retention: retentionPolicy(candleRetention, alertRetention),
  });
}
