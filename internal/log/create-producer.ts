import { createKafkaProducer, type KafkaProducerOptions, type KafkaProducerStats } from './kafka-producer.js';
import type { LogProducer } from './log.js';
import { createPlatformaticProducer } from './platformatic-producer.js';
import type { ProducerClient } from './producer-client.js';

/**
 * A Kafka LogProducer on the client `--kafka-producer` chose: the same options, batching,
 * partitions and guarantees on either (produce-queue.ts).
 */
export function createLogProducer(
  client: ProducerClient,
  options: KafkaProducerOptions,
): Promise<LogProducer & KafkaProducerStats> {
  return client === 'platformatic' ? createPlatformaticProducer(options) : createKafkaProducer(options);
}
