import { hostname } from 'node:os';
import { z } from 'zod';
import { TRADE_FILE_FORMATS } from '../ingest/files/index.js';
import type { IngestTopics } from '../ingest/topics.js';
import { ConfigError } from '../runtime/errors.js';
import type { KafkaSecurity } from './connection-security.js';
import { KAFKA_FLAGS, parseEndpoints } from './endpoints.js';
import { compressionFlag, intFlag, KAFKA_PRODUCER_FLAGS, logLevelFlag, textFlag } from './flags.js';
import { INGEST_TOPIC_FLAGS, ingestTopics } from './ingest.js';
import { type FlagSpec, type FlagValues, flagHelp, parseFlagValues, readArgs } from './parse-flags.js';

/** The `tickmesh replay` flags: one schema, parsed once in cmd/, frozen. */

export const REPLAY_FORMATS = [...TRADE_FILE_FORMATS, 'binance-capture'] as const;

const REPLAY_INPUT_FLAGS = {
  input: { schema: z.string().min(1), arg: 'FILE', help: 'the file (.gz is read compressed)' },
  format: {
    schema: z.enum(REPLAY_FORMATS, { error: `expected one of ${REPLAY_FORMATS.join(', ')}` }),
    arg: 'FORMAT',
    help:
      'tardis (tardis.dev trades CSV: exchange,symbol,timestamp,local_timestamp,id,side,price,amount), ' +
      'binance-trades (Binance public trades CSV, data.binance.vision, spot or USD-M layout), ' +
      'binance-aggtrades (Binance public aggTrades CSV), jsonl (one normalized Trade JSON object per line), ' +
      'binance-capture (raw WebSocket capture: "<url> <-> <t>" then "<t>: <frame>" lines)',
  },
  exchange: {
    schema: textFlag,
    arg: 'VENUE',
    help:
      'venue of Binance files (binance, binance-futures for the USD-M layout); for tardis and jsonl: ' +
      'only rows of this venue',
    defaultHelp: 'binance',
  },
  symbol: {
    schema: textFlag,
    arg: 'SYMBOL',
    help: 'symbol of Binance files; for tardis and jsonl: only rows of this symbol',
    defaultHelp: 'from the file name, BTCUSDT-trades-...',
  },
  market: {
    schema: textFlag,
    arg: 'ID',
    help: 'canonical market id for every trade',
    defaultHelp: 'derived from venue and symbol',
  },
  speed: {
    schema: z
      .union([z.literal('max'), z.coerce.number().positive()], { error: 'expected a positive number or max' })
      .default('max'),
    arg: 'N|max',
    help: 'N times real time by event time, or max (as fast as Kafka takes it)',
  },
} as const satisfies FlagSpec;

const REPLAY_OUTPUT_FLAGS = {
  ...INGEST_TOPIC_FLAGS,
  createTopics: {
    schema: intFlag(1).optional(),
    arg: 'N',
    help: 'create the three topics with N partitions if they do not exist',
  },
  compression: { schema: compressionFlag, arg: 'KIND', help: 'zstd, gzip (for Kafka readers without zstd) or none' },
  ...KAFKA_PRODUCER_FLAGS,
  clientId: { schema: textFlag, arg: 'ID', help: 'Kafka client id', defaultHelp: 'tickmesh-replay-<host>' },
  quiet: {
    schema: z.boolean().default(false),
    help: 'no progress lines on stderr (the final summary still goes to stdout)',
  },
  logLevel: { schema: logLevelFlag.unwrap().default('warn'), arg: 'LEVEL', env: 'LOG_LEVEL', help: 'pino level' },
} as const satisfies FlagSpec;

const REPLAY_FLAGS = { ...REPLAY_INPUT_FLAGS, ...KAFKA_FLAGS, ...REPLAY_OUTPUT_FLAGS } as const satisfies FlagSpec;

export const REPLAY_HELP = `tickmesh replay: feed a trade file into Kafka with the live path's normalization

usage: tickmesh replay --input FILE --format FORMAT [options]

input:
${flagHelp(REPLAY_INPUT_FLAGS)}

output (flags override the environment):
${flagHelp({ ...KAFKA_FLAGS, ...REPLAY_OUTPUT_FLAGS })}

Progress goes to stderr once a second; the summary line (JSON) to stdout. Exit code 0 when every
trade read was produced or counted as a duplicate, rejected or gap; 1 on a Kafka failure.
`;

type ReplayFlags = FlagValues<typeof REPLAY_FLAGS>;

export type ReplayConfig = Pick<
  ReplayFlags,
  | 'input'
  | 'format'
  | 'exchange'
  | 'symbol'
  | 'market'
  | 'speed'
  | 'createTopics'
  | 'compression'
  | 'kafkaProducer'
  | 'quiet'
  | 'logLevel'
> & {
  readonly kafkaBrokers: readonly string[];
  readonly kafkaSecurity: KafkaSecurity | undefined;
  readonly topics: IngestTopics;
  readonly clientId: string;
};

export function parseReplayConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ReplayConfig {
  const flags = readArgs(REPLAY_FLAGS, argv);
  const { tradesTopic, rejectsTopic, gapsTopic, clientId, ...v } = parseFlagValues(REPLAY_FLAGS, flags, env);
  const endpoints = parseEndpoints(flags, env);
  if (endpoints.kafkaBrokers.length === 0) throw new ConfigError('no Kafka brokers (--kafka-brokers or KAFKA_BROKERS)');
  return Object.freeze({
    ...v,
    kafkaBrokers: endpoints.kafkaBrokers,
    kafkaSecurity: endpoints.kafkaSecurity,
    topics: ingestTopics({ tradesTopic, rejectsTopic, gapsTopic }),
    clientId: clientId ?? `tickmesh-replay-${hostname()}`,
  });
}
