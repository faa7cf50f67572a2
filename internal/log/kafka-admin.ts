import type { Admin } from 'kafkajs';
import { ConfigError } from '../runtime/errors.js';
import { classifyKafkaError, createKafkaClient, type KafkaClientOptions } from './kafka-client.js';
import type { LogAdmin } from './log.js';

export interface KafkaAdminOptions extends KafkaClientOptions {
  /** Replication factor of topics this admin creates. Default: the broker's default. */
  readonly replicationFactor?: number;
}

/** Topic administration on Kafka: create, count partitions, read end offsets. */
export async function createKafkaAdmin(options: KafkaAdminOptions): Promise<LogAdmin> {
  const admin = createKafkaClient(options).admin();
  try {
    await admin.connect();
  } catch (err) {
    throw classifyKafkaError(err, 'admin connect');
  }
  return new KafkaAdmin(admin, options.replicationFactor);
}

class KafkaAdmin implements LogAdmin {
  constructor(
    private readonly admin: Admin,
    private readonly replicationFactor: number | undefined,
  ) {}

  async ensureTopic(topic: string, partitions: number): Promise<void> {
    if (!Number.isInteger(partitions) || partitions < 1) throw new ConfigError('partitions must be >= 1');
    try {
      await this.admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: partitions,
            ...(this.replicationFactor === undefined ? {} : { replicationFactor: this.replicationFactor }),
          },
        ],
      });
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
    await this.admin.disconnect();
  }

  private async exists(topic: string): Promise<boolean> {
    try {
      return (await this.admin.listTopics()).includes(topic);
    } catch (err) {
      throw classifyKafkaError(err, 'list topics');
    }
  }
}
