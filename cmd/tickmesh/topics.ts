import { hostname } from 'node:os';
import type { KafkaSecurity } from '../../internal/config/connection-security.js';
import { ENDPOINT_FLAGS, ENDPOINT_HELP, parseEndpoints, requireEndpoints } from '../../internal/config/endpoints.js';
import { readArgs } from '../../internal/config/parse-flags.js';
import {
  parseTopicsOptions,
  TOPICS_FLAGS,
  TOPICS_FLAGS_HELP,
  type TopicsOptions,
} from '../../internal/config/topics.js';
import { createKafkaAdmin, type KafkaLogAdmin } from '../../internal/log/kafka-admin.js';
import { createLogger, type Logger, silentLogger } from '../../internal/observe/logger.js';
import { ConfigError, isRetriable } from '../../internal/runtime/errors.js';
import { retry } from '../../internal/runtime/retry.js';
import { KAFKA_WAIT } from '../../internal/runtime/retry-policies.js';
import type { Command } from './command.js';

const HELP = `tickmesh topics: create the Kafka topics tickmesh uses, if they do not exist

Ensures the trades, late, rejected, gaps and klines topics, each with --partitions partitions. A
trades or klines topic that exists with another partition count is refused (exit 2): the operator
places that many partitions, re-partitioning re-keys markets, and a market's venue klines must be
in the partition number of its trades. Other topics are left as they are. Topics are
created with message.timestamp.type=LogAppendTime.

usage: tickmesh topics --partitions N [options]

endpoints (flags override the environment):
${ENDPOINT_HELP}

options:
${TOPICS_FLAGS_HELP}
`;

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
  const klinesCount = existing.get(options.klinesTopic);
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
        : klinesCount !== undefined && klinesCount !== options.partitions
          ? `topic ${options.klinesTopic} exists with ${klinesCount} partitions, ${options.partitions} were asked for: ` +
            "a market's venue klines must be in the partition number of its trades (recreate the klines topic)"
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
    replicationFactor: options.replicationFactor,
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
    const flags = readArgs({ ...ENDPOINT_FLAGS, ...TOPICS_FLAGS }, argv);
    const endpoints = parseEndpoints(flags, process.env);
    requireEndpoints(endpoints, ['kafkaBrokers']);
    const options = parseTopicsOptions(flags, process.env);
    const dryRun = options.dryRun;
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
