import { z } from 'zod';
import { DEFAULT_TOPICS } from '../ingest/topics.js';
import { ConfigError } from '../runtime/errors.js';
import { intFlag, logLevelFlag } from './flags.js';
import { type FlagSpec, flagHelp, parseFlagValues, type RawFlags } from './parse-flags.js';

const LATE_TOPIC = 'tickmesh.trades.late.v1';

/** The `tickmesh topics` flags. */
export const TOPICS_FLAGS = {
  partitions: {
    schema: intFlag(1, 100_000).default(12),
    arg: 'N',
    help: "partitions of every topic; the trades topic's is the unit of placement (the most workers that share the load)",
  },
  replicationFactor: {
    schema: intFlag(1, 32).optional(),
    arg: 'N',
    help: 'replicas of each partition',
    defaultHelp: "the brokers' default",
  },
  tradesTopic: { schema: z.string().min(1).default(DEFAULT_TOPICS.trades), arg: 'NAME', help: 'trades topic' },
  lateTopic: { schema: z.string().min(1).default(LATE_TOPIC), arg: 'NAME', help: 'late trades topic' },
  rejectedTopic: {
    schema: z.string().min(1).default(DEFAULT_TOPICS.rejects),
    arg: 'NAME',
    help: 'rejected records topic',
  },
  gapsTopic: { schema: z.string().min(1).default(DEFAULT_TOPICS.gaps), arg: 'NAME', help: 'gaps topic' },
  klinesTopic: {
    schema: z.string().min(1).default(DEFAULT_TOPICS.klines),
    arg: 'NAME',
    help: "the venues' klines topic (its partition count must equal the trades topic's)",
  },
  waitSeconds: {
    schema: intFlag(0).default(0),
    arg: 'S',
    help: 'keep trying while Kafka does not answer, up to S seconds',
  },
  dryRun: { schema: z.boolean().default(false), help: 'print what would be created, change nothing' },
  logLevel: { schema: logLevelFlag, arg: 'LEVEL', env: 'LOG_LEVEL', help: 'pino level' },
} as const satisfies FlagSpec;

export const TOPICS_FLAGS_HELP = flagHelp(TOPICS_FLAGS);

export interface TopicsOptions {
  readonly partitions: number;
  readonly replicationFactor: number | undefined;
  /** Trades first: the one whose partition count must match. */
  readonly topics: readonly string[];
  /** Keyed like the trades: its partition count must match the trades topic's too. */
  readonly klinesTopic: string;
  readonly waitSeconds: number;
  readonly dryRun: boolean;
  readonly logLevel: string;
}

/** The options of `tickmesh topics` from raw flags over `env`; ConfigError naming a bad one. */
export function parseTopicsOptions(
  flags: RawFlags,
  env: Readonly<Record<string, string | undefined>> = {},
): TopicsOptions {
  const { tradesTopic, lateTopic, rejectedTopic, gapsTopic, klinesTopic, ...v } = parseFlagValues(
    TOPICS_FLAGS,
    flags,
    env,
  );
  const topics = [tradesTopic, lateTopic, rejectedTopic, gapsTopic, klinesTopic];
  if (new Set(topics).size !== topics.length) {
    throw new ConfigError(`the five topics must differ: ${topics.join(', ')}`);
  }
  return Object.freeze({ ...v, topics: Object.freeze(topics), klinesTopic });
}
