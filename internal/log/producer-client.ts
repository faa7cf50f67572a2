/**
 * The Kafka clients a LogProducer can run on, the default first. Apart from the adapters so that
 * parsing `--kafka-producer` loads neither client.
 */
export const PRODUCER_CLIENTS = ['kafkajs', 'platformatic'] as const;

export type ProducerClient = (typeof PRODUCER_CLIENTS)[number];
