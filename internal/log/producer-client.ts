/**
 * The Kafka clients a LogProducer can run on, the default first: @platformatic/kafka, which
 * costs ingest less CPU per trade than kafkajs (docs/BENCHMARKS.md, "The Kafka client, decided by
 * numbers"). Apart from the adapters so that parsing `--kafka-producer` loads neither client.
 */
export const PRODUCER_CLIENTS = ['platformatic', 'kafkajs'] as const;

export type ProducerClient = (typeof PRODUCER_CLIENTS)[number];
