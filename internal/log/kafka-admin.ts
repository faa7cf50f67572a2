import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, ITopicConfig } from 'kafkajs';
import type { Logger } from '../observe/logger.js';
import { closeWithin } from '../runtime/close-within.js';
import { ConfigError, ConnectionSecurityError, UnavailableError } from '../runtime/errors.js';
import { classifyKafkaError, createKafkaClient, type KafkaClientOptions } from './kafka-client.js';
import { firstTlsBroker } from './kafka-tls-probe.js';
import type { LogAdmin } from './log.js';

export interface KafkaAdminOptions extends KafkaClientOptions {
  /** Replication factor of topics this admin creates. Default: the broker's default. */
  readonly replicationFactor?: number;
}

/**
 * The config of every topic tickmesh creates: LogRecord.timestamp is the append time (the
 * worker's append-to-publish latency is measured from it), stamped by the broker, not by the
 * producer's clock at encoding.
 */
export const APPEND_TIME: ReadonlyArray<{ name: string; value: string }> = [
  { name: 'message.timestamp.type', value: 'LogAppendTime' },
];

/** The Kafka admin's own additions to the LogAdmin contract. */
export interface KafkaLogAdmin extends LogAdmin {
  /** The partition count of each of `topics` that exists; a missing topic has no entry. */
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>;
}

/** Topic administration on Kafka: create, count partitions, read end offsets. */
export async function createKafkaAdmin(options: KafkaAdminOptions): Promise<KafkaLogAdmin> {
  const admin = createKafkaClient(options).admin();
  try {
    await admin.connect();
  } catch (err) {
    const classified = classifyKafkaError(err, 'admin connect');
    const tls = classified instanceof UnavailableError && !options.security?.tls;
    const broker = tls ? await firstTlsBroker(options.brokers) : undefined;
    if (broker === undefined) throw classified;
    throw new ConnectionSecurityError(
      'kafka',
      `admin connect: ${broker} speaks TLS and this client plain text: set KAFKA_SECURITY_PROTOCOL to ssl or sasl_ssl (and the CA)`,
      { cause: err },
    );
  }
  return new KafkaAdmin(admin, options.replicationFactor, options.logger.child({ component: 'kafka-admin' }));
}

class KafkaAdmin implements KafkaLogAdmin {
  constructor(
    private readonly admin: Admin,
    private readonly replicationFactor: number | undefined,
    private readonly logger: Logger,
  ) {}

  async ensureTopic(topic: string, partitions: number): Promise<void> {
    if (!Number.isInteger(partitions) || partitions < 1) throw new ConfigError('partitions must be >= 1');
    try {
      await createTopicsAndWait(this.admin, [
        {
          topic,
          numPartitions: partitions,
          ...(this.replicationFactor === undefined ? {} : { replicationFactor: this.replicationFactor }),
          configEntries: [...APPEND_TIME],
        },
      ]);
    } catch (err) {
      // Another process created it at the same moment: fine if it has the same shape (checked below).
      if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') {
        const hasIt = await this.exists(topic);
        if (!hasIt) throw classifyKafkaError(err, `create topic ${topic}`);
      }
    }
    const actual = await this.partitionCount(topic);
    if (actual !== partitions) {
      throw new ConfigError(`topic ${topic} has ${actual} partitions, ${partitions} were asked for`);
    }
  }

  async partitionCount(topic: string): Promise<number> {
    if (!(await this.exists(topic))) throw new ConfigError(`unknown topic ${topic}`);
    try {
      const meta = await this.admin.fetchTopicMetadata({ topics: [topic] });
      return meta.topics[0]?.partitions.length ?? 0;
    } catch (err) {
      throw classifyKafkaError(err, `metadata of ${topic}`);
    }
  }

  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    let names: string[];
    try {
      names = await this.admin.listTopics();
    } catch (err) {
      throw classifyKafkaError(err, 'list topics');
    }
    const existing = topics.filter((t) => names.includes(t));
    if (existing.length === 0) return new Map();
    try {
      const meta = await this.admin.fetchTopicMetadata({ topics: existing });
      return new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
    } catch (err) {
      throw classifyKafkaError(err, 'topic metadata');
    }
  }

  async endOffsets(topic: string): Promise<Map<number, bigint>> {
    if (!(await this.exists(topic))) throw new ConfigError(`unknown topic ${topic}`);
    try {
      const offsets = await this.admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    } catch (err) {
      throw classifyKafkaError(err, `offsets of ${topic}`);
    }
  }

  async close(): Promise<void> {
    await closeWithin(() => this.admin.disconnect(), this.logger, 'kafka admin');
  }

  private async exists(topic: string): Promise<boolean> {
    try {
      return (await this.admin.listTopics()).includes(topic);
    } catch (err) {
      throw classifyKafkaError(err, 'list topics');
    }
  }
}

/**
 * Creates topics and waits until every partition has a leader. kafkajs's own `waitForLeaders`
 * retries only LEADER_NOT_AVAILABLE: a broker whose metadata cache has not yet caught up with the
 * controller answers UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this
 * topic-partition") for a moment, and kafkajs throws it (a test run failed on it). This polls the
 * metadata instead, tolerating that answer until `timeoutMs`. Resolves to kafkajs's answer:
 * whether it created a topic.
 */
export async function createTopicsAndWait(
  admin: Admin,
  topics: readonly ITopicConfig[],
  timeoutMs = 20_000,
): Promise<boolean> {
  const created = await admin.createTopics({ topics: [...topics], waitForLeaders: false });
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: names });
      // A topic's partitions appear in the metadata together; an existing topic of another
      // shape is ready at once (ensureTopic then names the mismatch).
      const ready = topics.every((t) => {
        const found = meta.topics.find((m) => m.name === t.topic);
        return found !== undefined && found.partitions.length > 0 && found.partitions.every((p) => p.leader >= 0);
      });
      if (ready) return created;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new UnavailableError(`topics ${names.join(', ')} have no leaders after ${timeoutMs} ms`, { cause: last });
}

export interface TopicWait {
  readonly admin: KafkaLogAdmin;
  readonly topics: readonly string[];
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** How often to look again; default 2 s. */
  readonly intervalMs?: number;
}

/**
 * Resolves true once every one of `topics` exists, false when `signal` aborts first. A process
 * started before its topics were created says so in one warning that names the missing topics and
 * the command that creates them, then looks again quietly.
 */
export async function waitForTopics(wait: TopicWait): Promise<boolean> {
  let warned = false;
  while (!wait.signal.aborted) {
    const counts = await wait.admin.partitionCounts(wait.topics);
    const missing = wait.topics.filter((t) => !counts.has(t));
    if (missing.length === 0) {
      if (warned) wait.logger.info({ topics: wait.topics }, 'topics exist now');
      return true;
    }
    if (!warned) {
      wait.logger.warn(
        { missing, create: "tickmesh topics --partitions N (or the chart's topics Job)" },
        'topics missing; waiting for them to be created',
      );
      warned = true;
    }
    await sleep(wait.intervalMs ?? 2_000, undefined, { signal: wait.signal }).catch(() => undefined);
  }
  return false;
}

/**
 * Connects an admin with `options`, waits for `wait.topics` (waitForTopics) and resolves with
 * their partition counts; undefined when the signal aborts first. A broker that does not answer
 * rejects (UnavailableError): for a StartupGate to retry, with `options.quiet`.
 */
export async function awaitTopics(
  options: KafkaAdminOptions,
  wait: Omit<TopicWait, 'admin'>,
): Promise<Map<string, number> | undefined> {
  const admin = await createKafkaAdmin(options);
  try {
    if (!(await waitForTopics({ ...wait, admin }))) return undefined;
    return await admin.partitionCounts(wait.topics);
  } finally {
    await admin.close().catch(() => undefined);
  }
}
