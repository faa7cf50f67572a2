import { z } from 'zod';
import { DATASETS, type Dataset, type ExportRange } from '../export/datasets.js';
import { EXPORT_FORMATS, type ExportFormat } from '../export/exporter.js';
import { INTERVALS } from '../market/interval.js';
import { ConfigError } from '../runtime/errors.js';
import { DATABASE_SECURITY_FLAGS, type PostgresSecurity } from './connection-security.js';
import { ENDPOINT_FLAGS, parseEndpoints } from './endpoints.js';
import { intFlag, sqlSchemaFlag, timeFlag } from './flags.js';
import { type FlagSpec, flagHelp, parseFlagValues, readArgs } from './parse-flags.js';

/** The `tickmesh export` flags: one schema, parsed once in cmd/, frozen. */

const time = timeFlag;

const EXPORT_FLAGS = {
  exchange: { schema: z.string().min(1), arg: 'VENUE', help: 'the venue, as stored (binance, coinbase, ...)' },
  symbol: { schema: z.string().min(1), arg: 'SYMBOL', help: "the venue's symbol, as stored (BTCUSDT, BTC-USD)" },
  interval: {
    schema: z.enum(INTERVALS).optional(),
    arg: 'I',
    help: `${INTERVALS.join(' ')}: required for candles and indicators; for alerts, only that interval's`,
  },
  from: { schema: time, arg: 'TIME', help: 'first open (alert) time, inclusive: ISO 8601 or Unix ms' },
  to: { schema: time, arg: 'TIME', help: 'last open (alert) time, exclusive' },
  format: {
    schema: z.enum(EXPORT_FORMATS).optional(),
    arg: 'FORMAT',
    help: 'parquet or csv',
    defaultHelp: "from the output's extension; csv for stdout",
  },
  output: { schema: z.string().min(1).default('-'), arg: 'FILE', help: 'the file to write; - is stdout (CSV only)' },
  batchRows: { schema: intFlag(1, 1_000_000).default(5_000), arg: 'N', help: 'rows fetched from the cursor at a time' },
  quiet: { schema: z.boolean().default(false), help: 'no progress bar (there is none when stderr is not a terminal)' },
  'database-url': ENDPOINT_FLAGS['database-url'],
  schema: { schema: sqlSchemaFlag.default('public'), arg: 'NAME', help: "tickmesh's schema in it" },
} as const satisfies FlagSpec;

export const EXPORT_HELP = `tickmesh export: candles, indicators or alerts of one market and time range, to Parquet or CSV

usage: tickmesh export (candles|indicators|alerts) --exchange VENUE --symbol SYMBOL --from TIME --to TIME [options]

${flagHelp({ ...EXPORT_FLAGS, ...DATABASE_SECURITY_FLAGS })}

Read through a cursor in one snapshot (memory holds one batch). Decimals stay exact: DECIMAL(38, 18)
in Parquet, as stored in CSV. Times are UTC. A progress bar goes to stderr when it is a terminal;
the summary line (JSON) to stderr at the end.
`;

export interface ExportConfig {
  readonly dataset: Dataset;
  readonly range: ExportRange;
  readonly format: ExportFormat;
  readonly output: string;
  readonly batchRows: number;
  readonly quiet: boolean;
  readonly databaseUrl: string;
  readonly postgresSecurity: PostgresSecurity | undefined;
  readonly schema: string;
}

export function parseExportConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ExportConfig {
  const [first, ...rest] = argv;
  const dataset = DATASETS.find((d) => d === first);
  if (dataset === undefined) throw new ConfigError(`name what to export first: one of ${DATASETS.join(', ')}`);
  const spec = { ...EXPORT_FLAGS, ...DATABASE_SECURITY_FLAGS };
  const flags = readArgs(spec, rest);
  const v = parseFlagValues(EXPORT_FLAGS, flags, env);
  const endpoints = parseEndpoints(flags, env);
  if (endpoints.databaseUrl === undefined) throw new ConfigError('no PostgreSQL (--database-url or DATABASE_URL)');
  if (dataset !== 'alerts' && v.interval === undefined) throw new ConfigError(`exporting ${dataset} needs --interval`);
  if (v.to <= v.from) throw new ConfigError('--to must be after --from');
  const format = v.format ?? (v.output.endsWith('.parquet') ? 'parquet' : 'csv');
  if (format === 'parquet' && v.output === '-') throw new ConfigError('Parquet goes to a file: give --output FILE');
  return Object.freeze({
    dataset,
    range: { exchange: v.exchange, symbol: v.symbol, interval: v.interval, from: v.from, to: v.to },
    format,
    output: v.output,
    batchRows: v.batchRows,
    quiet: v.quiet,
    databaseUrl: endpoints.databaseUrl,
    postgresSecurity: endpoints.postgresSecurity,
    schema: v.schema,
  });
}
