import { hostname } from 'node:os';
import { z } from 'zod';
import type { KafkaSecurity } from '../../internal/config/connection-security.js';
import { endpointHelp, parseCommandFlags, parseEndpoints, requireEndpoints } from '../../internal/config/endpoints.js';
import { intFlag } from '../../internal/config/flags.js';
import { DEFAULT_TOPICS } from '../../internal/ingest/topics.js';
import { createKafkaAdmin, type KafkaLogAdmin } from '../../internal/log/kafka-admin.js';
import { createLogger, type Logger, silentLogger } from '../../internal/observe/logger.js';
import { ConfigError, isRetriable } from '../../internal/runtime/errors.js';
import { retry } from '../../internal/runtime/retry.js';
import { KAFKA_WAIT } from '../../internal/runtime/retry-policies.js';
import type { Command } from './command.js';

const LATE_TOPIC = 'tickmesh.trades.late.v1';

const HELP = `tickmesh topics: create the Kafka topics tickmesh uses, if they do not exist

Ensures the trades, late, rejected and gaps topics, each with --partitions partitions. A trades
topic that exists with another partition count is refused (exit 2): the operator places that many
partitions, and re-partitioning re-keys markets. Other topics are left as they are. Topics are
created with message.timestamp.type=LogAppendTime.

usage: tickmesh topics --partitions N [options]

endpoints (flags override the environment):
${endpointHelp()}

options:
  --partitions N              partitions of every topic; the trades topic's is the unit of
                              placement (the most workers that share the load); default 12
  --replication-factor N      replicas of each partition; default: the brokers' default
  --trades-topic NAME         default ${DEFAULT_TOPICS.trades}
  --late-topic NAME           default ${LATE_TOPIC}
  --rejected-topic NAME       default ${DEFAULT_TOPICS.rejects}
  --gaps-topic NAME           default ${DEFAULT_TOPICS.gaps}
  --wait-seconds S            keep trying while Kafka does not answer, up to S seconds; default 0
  --dry-run                   print what would be created, change nothing
  --log-level LEVEL           default info (LOG_LEVEL)
`;

const schema = z.object({
  partitions: intFlag(1, 100_000).default(12),
  'replication-factor': intFlag(1, 32).optional(),
  'trades-topic': z.string().min(1).default(DEFAULT_TOPICS.trades),
  'late-topic': z.string().min(1).default(LATE_TOPIC),
  'rejected-topic': z.string().min(1).default(DEFAULT_TOPICS.rejects),
  'gaps-topic': z.string().min(1).default(DEFAULT_TOPICS.gaps),
  'wait-seconds': intFlag(0).default(0),
  'log-level': z.string().default('info'),
});

const OPTION_NAMES = Object.keys(schema.shape);

export interface TopicsOptions {
  readonly partitions: number;
  readonly replicationFactor: number | undefined;
  /** Trades first: the one whose partition count must match. */
  readonly topics: readonly string[];
  readonly waitSeconds: number;
  readonly dryRun: boolean;
  readonly logLevel: string;
}

export function parseTopicsOptions(
  flags: Readonly<Record<string, string | undefined>>,
  dryRun: boolean,
): TopicsOptions {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const v = parsed.data;
  const topics = [v['trades-topic'], v['late-topic'], v['rejected-topic'], v['gaps-topic']];
  if (new Set(topics).size !== topics.length)
    throw new ConfigError(`the four topics must differ: ${topics.join(', ')}`);
  return Object.freeze({
    partitions: v.partitions,
    replicationFactor: v['replication-factor'],
    topics: Object.freeze(topics),
    waitSeconds: v['wait-seconds'],
    dryRun,
    logLevel: v['log-level'],
  });
}

/** What `tickmesh topics` does to reach the wanted state, decided from the partition counts that exist. */
export interface TopicsPlan {
  readonly create: readonly string[];
  readonly keep: ReadonlyArray<{ readonly topic: string; readonly partitions: number }>;
  /** Why the wanted state cannot be reached; undefined when it can. */
  readonly refusal: string | undefined;
}

export function planTopics(options: TopicsOptions, existing: ReadonlyMap<string, number>): TopicsPlan {
  const [trades] = options.topics;
  const tradesCount = existing.get(trades as string);
  return {
    create: options.topics.filter((t) => !existing.has(t)),
    keep: options.topics.flatMap((t) => {
      const partitions = existing.get(t);
      return partitions === undefined ? [] : [{ topic: t, partitions }];
    }),
    refusal:
      tradesCount !== undefined && tradesCount !== options.partitions
        ? `topic ${trades} exists with ${tradesCount} partitions, ${options.partitions} were asked for: ` +
          "the operator places the trades topic's partitions, so the count is chosen once (recreate the topic, or ask for its count)"
        : undefined,
  };
}

async function connect(
  brokers: readonly string[],
  security: KafkaSecurity | undefined,
  options: TopicsOptions,
  logger: Logger,
): Promise<KafkaLogAdmin> {
  const admin = {
    brokers,
    security,
    clientId: `tickmesh-topics-${hostname()}`,
    // kafkajs logs, as errors, the metadata polls that meet a new topic before its leaders are
    // elected (createTopicsAndWait tolerates them); its real failures reach us as thrown errors.
    logger: options.logLevel === 'debug' || options.logLevel === 'trace' ? logger : silentLogger(),
    ...(options.replicationFactor === undefined ? {} : { replicationFactor: options.replicationFactor }),
  };
  if (options.waitSeconds === 0) return createKafkaAdmin(admin);
  const signal = AbortSignal.timeout(options.waitSeconds * 1000);
  let waiting = false;
  return retry(() => createKafkaAdmin(admin), {
    ...KAFKA_WAIT,
    signal,
    retriable: (err) => isRetriable(err) && !signal.aborted,
    onRetry: (err) => {
      if (!waiting)
        logger.warn({ brokers, err: (err as Error).message, waitSeconds: options.waitSeconds }, 'waiting for Kafka');
      waiting = true;
    },
  });
}

export const topicsCommand: Command = {
  name: 'topics',
  help: HELP,
  async run(argv) {
    const dryRun = argv.includes('--dry-run');
    const flags = parseCommandFlags(
      argv.filter((a) => a !== '--dry-run'),
      OPTION_NAMES,
    );
    const endpoints = parseEndpoints(flags);
    requireEndpoints(endpoints, ['kafkaBrokers']);
    const options = parseTopicsOptions({ ...flags, 'log-level': flags['log-level'] ?? process.env.LOG_LEVEL }, dryRun);
    const logger = createLogger({ level: options.logLevel }).child({ role: 'topics' });

    const admin = await connect(endpoints.kafkaBrokers, endpoints.kafkaSecurity, options, logger);
    try {
      const plan = planTopics(options, await admin.partitionCounts(options.topics));
      const out = (line: string) => process.stdout.write(`${line}\n`);
      const rf = options.replicationFactor === undefined ? "the brokers' default" : String(options.replicationFactor);
      for (const { topic, partitions } of plan.keep) out(`exists  ${topic} (${partitions} partitions)`);
      for (const topic of plan.create) {
        out(
          `${dryRun ? 'would create' : 'create'}  ${topic} (${options.partitions} partitions, replication factor ${rf})`,
        );
      }
      if (plan.refusal !== undefined) throw new ConfigError(plan.refusal);
      if (dryRun) return 0;
      for (const topic of plan.create) await admin.ensureTopic(topic, options.partitions);
      out(`topics ready: ${options.topics[0]} has ${options.partitions} partitions`);
      return 0;
    } finally {
      await admin.close();
    }
  },
};
