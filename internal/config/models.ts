import type { z } from 'zod';
import { ConfigError } from '../runtime/errors.js';
import { DATABASE_SECURITY_FLAGS, type PostgresSecurity } from './connection-security.js';
import { ENDPOINT_FLAGS, parseEndpoints } from './endpoints.js';
import { intFlag, logLevelFlag, sqlSchemaFlag } from './flags.js';
import { type FlagSpec, flagHelp, parseFlagValues, readArgs } from './parse-flags.js';

/** The `tickmesh models` flags: one schema, parsed once in cmd/, frozen. */

const MODELS_FLAGS = {
  every: {
    schema: intFlag(1, 86_400).optional(),
    arg: 'S',
    help: 'refresh every S seconds until stopped',
    defaultHelp: 'once',
  },
  'database-url': ENDPOINT_FLAGS['database-url'],
  schema: { schema: sqlSchemaFlag.default('public'), arg: 'NAME', help: "tickmesh's schema" },
  logLevel: { schema: logLevelFlag, arg: 'LEVEL', env: 'LOG_LEVEL', help: 'pino level' },
} as const satisfies FlagSpec;

export const MODELS_HELP = `tickmesh models refresh: recompute the SQL models over the candle table

usage: tickmesh models refresh [options]

Migrates the schema if needed, then refreshes market_hourly, market_daily,
realized_volatility_daily and cross_venue_spreads (top_movers is a view over market_daily);
docs/HISTORY.md describes each.

${flagHelp({ ...MODELS_FLAGS, ...DATABASE_SECURITY_FLAGS })}
`;

export interface ModelsConfig {
  readonly every: number | undefined;
  readonly databaseUrl: string;
  readonly postgresSecurity: PostgresSecurity | undefined;
  readonly schema: string;
  readonly logLevel: z.output<typeof logLevelFlag>;
}

export function parseModelsConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ModelsConfig {
  const [action, ...rest] = argv;
  if (action !== 'refresh') throw new ConfigError('usage: tickmesh models refresh [options]');
  const flags = readArgs({ ...MODELS_FLAGS, ...DATABASE_SECURITY_FLAGS }, rest);
  const v = parseFlagValues(MODELS_FLAGS, flags, env);
  const endpoints = parseEndpoints(flags, env);
  if (endpoints.databaseUrl === undefined) throw new ConfigError('no PostgreSQL (--database-url or DATABASE_URL)');
  return Object.freeze({
    every: v.every,
    databaseUrl: endpoints.databaseUrl,
    postgresSecurity: endpoints.postgresSecurity,
    schema: v.schema,
    logLevel: v.logLevel,
  });
}
