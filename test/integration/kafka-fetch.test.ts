import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import { createKafkaProducer } from '../../internal/log/kafka-producer.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { endpoint, freshName } from '../harness/env.js';

const brokers = (): string[] => endpoint('KAFKA_BROKERS').split(',');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The worker's fetch flags (--fetch-max-wait-ms, --fetch-min-bytes) reach the broker: a consumer
 * with nothing to read fetches once per wait, and min bytes makes the broker gather a quiet
 * topic's records into fewer fetches.
 */
describe('Kafka consumer fetch wait and min bytes', () => {
  it('fetches an idle topic once per wait, and gathers records up to min bytes', async () => {
    const logger = silentLogger();
    const topic = freshName('tm-fetch');
    const admin = await createKafkaAdmin({ brokers: brokers(), clientId: 'fetch-test', logger });
    await admin.ensureTopic(topic, 1);
    const producer = await createKafkaProducer({
      brokers: brokers(),
      clientId: 'fetch-test',
      logger,
      registry: new Registry(),
      compression: 'none',
    });
    const open = (maxWaitTimeMs: number, minBytes: number) =>
      createKafkaConsumer({ brokers: brokers(), clientId: 'fetch-test', topic, logger, maxWaitTimeMs, minBytes });
    const eager = await open(100, 1);
    const gathering = await open(1_500, 1_000_000);
    const ac = new AbortController();
    try {
      for (const c of [eager, gathering]) await c.assign(0, 0n);
      const batches = [0, 0];
      const records = [0, 0];
      const reading = [eager, gathering].map(async (c, i) => {
        for await (const b of c.batches(ac.signal)) {
          batches[i] = (batches[i] as number) + 1;
          records[i] = (records[i] as number) + b.records.length;
        }
      });
      await sleep(1_000);
      // Idle: the broker holds each fetch for the wait.
      const idleFrom = [eager.stats().fetches, gathering.stats().fetches];
      await sleep(3_000);
      const idle = [
        eager.stats().fetches - (idleFrom[0] as number),
        gathering.stats().fetches - (idleFrom[1] as number),
      ];
      expect(idle[0]).toBeGreaterThanOrEqual(10);
      expect(idle[1]).toBeLessThanOrEqual(4);
      // Quiet: 20 small records, one every 50 ms. The eager consumer takes them as they come; the
      // broker holds the other's fetch for its wait, as the records never reach its min bytes.
      for (let i = 0; i < 20; i++) {
        await producer.send(topic, [{ key: 'k', value: new TextEncoder().encode(`r${i}`), headers: {} }]);
        await sleep(50);
      }
      await expect.poll(() => records, { timeout: 30_000, interval: 100 }).toEqual([20, 20]);
      expect(batches[0]).toBeGreaterThanOrEqual(5);
      expect(batches[1]).toBeLessThanOrEqual(3);
      ac.abort();
      await Promise.all(reading.map((r) => r.catch(() => undefined)));
    } finally {
      ac.abort();
      for (const c of [eager, gathering, producer, admin]) await c.close();
    }
  }, 120_000);
});
