import { CompressionTypes, type Message, type Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { KafkaSecurity } from '../config/connection-security.js';
import type { Logger } from '../observe/logger.js';
import type { Compression } from './compression.js';
import { classifyKafkaError, createKafkaClient } from './kafka-client.js';
import { keyPartitioner, MessageBuilder } from './kafka-messages.js';
import type { LogProducer, OutgoingRecord } from './log.js';
import { type KafkaProducerStats, ProduceQueue, type ProduceTransport } from './produce-queue.js';

export type { KafkaProducerStats } from './produce-queue.js';

/** kafkajs's codec per choice. */
const COMPRESSION_TYPES: Record<Compression, CompressionTypes> = {
  zstd: CompressionTypes.ZSTD,
  gzip: CompressionTypes.GZIP,
  none: CompressionTypes.None,
};

/** What a tickmesh Kafka producer is made from, whichever client it runs on. */
export interface KafkaProducerOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  readonly registry: Registry;
  /** TLS and SASL (Endpoints.kafkaSecurity); undefined: plain text. */
  readonly security?: KafkaSecurity | undefined;
  /**
   * Default zstd (kafka-zstd.ts): a tenth of gzip's CPU at a similar ratio; every tickmesh
   * reader decodes it. gzip for readers outside tickmesh that have no zstd codec.
   */
  readonly compression?: Compression;
  /** How long a partial batch waits for more records before it is sent. Default 5 ms. */
  readonly lingerMs?: number;
  /** Records per produce request. Default 20,000. */
  readonly maxBatchRecords?: number;
  /** Uncompressed bytes per produce request; keep below the broker's message.max.bytes. Default 900 KiB. */
  readonly maxBatchBytes?: number;
  /** Bytes accepted but not yet acknowledged; send() waits while this is full. Default 64 MiB. */
  readonly maxBufferBytes?: number;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** How long close() waits for accepted records to be acknowledged. Default 30 s. */
  readonly closeTimeoutMs?: number;
}

/**
 * A LogProducer over kafkajs: idempotent, acks=all, compressed, batched, with a bounded buffer
 * (produce-queue.ts has its guarantees).
 *
 * kafkajs gives up on a request after its own few retries (about 10 s); the queue then sends it
 * again. kafkajs keeps the idempotence sequence numbers of a request that failed, so the broker
 * drops a copy it had already appended; the one exception is a request split over several
 * leaders of which some acknowledged before another failed: their records are appended again
 * (consumers of the trades dedupe by trade id).
 */
export async function createKafkaProducer(options: KafkaProducerOptions): Promise<LogProducer & KafkaProducerStats> {
  const logger = options.logger.child({ component: 'kafka-producer' });
  const transport = new KafkajsTransport(options, logger);
  await transport.connect();
  return new ProduceQueue(transport, { ...options, logger });
}

class KafkajsTransport implements ProduceTransport<Message> {
  private readonly producer: Producer;
  private readonly compression: CompressionTypes;
  private readonly builder = new MessageBuilder();

  constructor(options: KafkaProducerOptions, logger: Logger) {
    this.compression = COMPRESSION_TYPES[options.compression ?? 'zstd'];
    const kafka = createKafkaClient({
      brokers: options.brokers,
      clientId: options.clientId,
      logger,
      security: options.security,
      ...(options.connectionTimeoutMs !== undefined ? { connectionTimeoutMs: options.connectionTimeoutMs } : {}),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    });
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: keyPartitioner,
    });
  }

  async connect(): Promise<void> {
    try {
      await this.producer.connect();
    } catch (err) {
      throw classifyKafkaError(err, 'producer connect');
    }
  }

  messages(_topic: string, records: readonly OutgoingRecord[], trace: Readonly<Record<string, string>>): Message[] {
    return this.builder.messages(records, trace);
  }

  async produce(topics: ReadonlyMap<string, Message[]>): Promise<void> {
    await this.producer.sendBatch({
      acks: -1,
      compression: this.compression,
      topicMessages: [...topics].map(([topic, messages]) => ({ topic, messages })),
    });
  }

  classify(err: unknown, what: string): unknown {
    return classifyKafkaError(err, what);
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}
