import { z } from 'zod';
import { INTERVALS } from '../market/interval.js';
import { ConfigError } from '../runtime/errors.js';
import { KLINE_VENUES } from '../verify/venue-klines.js';
import { ENDPOINT_FLAGS, parseEndpoints } from './endpoints.js';
import { sqlSchemaFlag, textFlag, timeFlag } from './flags.js';
import { type FlagSpec, type FlagValues, parseFlagValues, readArgs } from './parse-flags.js';

/** The `tickmesh verify` flags: one schema, parsed once in cmd/, frozen. */

const time = timeFlag;

export const VERIFY_FLAGS = {
  exchange: {
    schema: z.enum(KLINE_VENUES, { error: `one of ${KLINE_VENUES.join(', ')}` }),
    arg: 'VENUE',
    help: KLINE_VENUES.join(' | '),
  },
  symbol: {
    schema: z.string().min(1),
    arg: 'SYMBOL',
    help: "the venue's symbol, as the candles are stored (BTCUSDT, BTC-USDT)",
  },
  interval: {
    schema: z.enum(INTERVALS).default('1m'),
    arg: 'I',
    help: `${INTERVALS.join(' ')}; the venue's own set applies`,
  },
  from: { schema: time, arg: 'TIME', help: 'first open time, inclusive: ISO 8601 (2020-02-22T00:01Z) or Unix ms' },
  to: { schema: time, arg: 'TIME', help: 'last open time, exclusive' },
  'database-url': { ...ENDPOINT_FLAGS['database-url'], help: 'PostgreSQL holding the candles' },
  schema: { schema: sqlSchemaFlag.default('public'), arg: 'NAME', help: 'its schema' },
  restUrl: {
    schema: z.string().url().optional(),
    arg: 'URL',
    help: "the venue's REST base URL (a stand-in in tests)",
    defaultHelp: 'its public API',
  },
  requestsPerSecond: {
    schema: z.coerce.number().positive().max(1000).default(5),
    arg: 'N',
    help: 'request budget against the venue',
  },
  gaps: {
    schema: textFlag,
    arg: 'FILE',
    help:
      'JSON lines of gap windows ({"fromTime": ms, "toTime": ms}, or gap.v1 events with a window): a ' +
      'mismatch inside one is "likely lost trades (gap)"; id-only gap events carry no event times and are skipped',
  },
} as const satisfies FlagSpec;

export type VerifyOptions = Omit<FlagValues<typeof VERIFY_FLAGS>, 'database-url'> & { readonly databaseUrl: string };

export function parseVerifyOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): VerifyOptions {
  const flags = readArgs(VERIFY_FLAGS, argv);
  const { 'database-url': _, ...v } = parseFlagValues(VERIFY_FLAGS, flags, env);
  if (v.to <= v.from) throw new ConfigError('--to must be after --from');
  const { databaseUrl } = parseEndpoints(flags, env);
  if (!databaseUrl) throw new ConfigError('no database (--database-url or DATABASE_URL)');
  return Object.freeze({ ...v, databaseUrl });
}
