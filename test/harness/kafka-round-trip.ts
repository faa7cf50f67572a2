import { Registry } from 'prom-client';
import { expect } from 'vitest';
import { createLogProducer } from '../../internal/log/create-producer.js';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import type { KafkaClientOptions } from '../../internal/log/kafka-client.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import type { LogRecord } from '../../internal/log/log.js';
import type { ProducerClient } from '../../internal/log/producer-client.js';
import { freshName } from './env.js';

/**
 * Creates a topic, produces records (on `producer`'s client) and reads them back, every client
 * with `options`.
 */
export async function kafkaRoundTrip(
  options: Omit<KafkaClientOptions, 'clientId'>,
  producerClient: ProducerClient = 'kafkajs',
): Promise<void> {
  const topic = freshName('tm-secure');
  const admin = await createKafkaAdmin({ ...options, clientId: 'secure-admin' });
  const producer = await createLogProducer(producerClient, {
    ...options,
    clientId: 'secure-producer',
    registry: new Registry(),
  });
  try {
    await admin.ensureTopic(topic, 2);
    expect(await admin.partitionCount(topic)).toBe(2);
    const enc = new TextEncoder();
    await producer.send(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: enc.encode(`v${i}`) })),
    );
    const consumer = await createKafkaConsumer({ ...options, clientId: 'secure-consumer', topic });
    await consumer.assign(0, 0n);
    await consumer.assign(1, 0n);
    const got: LogRecord[] = [];
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 30_000);
    try {
      for await (const batch of consumer.batches(stop.signal)) {
        got.push(...batch.records);
        if (got.length >= 10) break;
      }
    } finally {
      clearTimeout(timer);
      await consumer.close();
    }
    expect(got.map((r) => new TextDecoder().decode(r.value)).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `v${i}`).sort(),
    );
  } finally {
    await producer.close();
    await admin.close();
  }
}

/** The error creating a producer on `producerClient` with `options`, or undefined when it connects. */
export async function producerRefusal(
  options: Omit<KafkaClientOptions, 'clientId'>,
  producerClient: ProducerClient,
): Promise<unknown> {
  return createLogProducer(producerClient, { ...options, clientId: 'refused-producer', registry: new Registry() }).then(
    async (p) => {
      await p.close();
      return undefined;
    },
    (e: unknown) => e,
  );
}
