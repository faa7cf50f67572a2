import { type Admin, type Consumer, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopicsAndWait } from '../../internal/log/kafka-admin.js';
import { partitionForKey } from '../../internal/log/partitioner.js';
import { endpoint, freshName } from '../harness/env.js';

const PARTITIONS = 3;
const MARKETS = [
  'binance:BTCUSDT',
  'binance:ETHUSDT',
  'coinbase:BTC-USD',
  'kraken:XBT/USD',
  'okx:SOL-USDT',
  'bybit:DOGEUSDT',
];
const ROUNDS = 4;

describe('kafka (real single-node KRaft broker from test/infra/kafka.sh)', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer | undefined;
  const topic = freshName('it.kafka');
  const groupId = freshName('it-kafka-group');

  beforeAll(async () => {
    kafka = new Kafka({
      clientId: 'tickmesh-integration',
      brokers: [endpoint('KAFKA_BROKERS')],
      logLevel: logLevel.WARN,
    });
    admin = kafka.admin();
    await admin.connect();
    const created = await createTopicsAndWait(admin, [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }]);
    expect(created).toBe(true);
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
    await producer.connect();
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    if (admin) {
      if (consumer) await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.deleteTopics({ topics: [topic] });
      await admin.disconnect();
    }
  });

  it('creates a fresh topic with the requested partitions', async () => {
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    expect(meta?.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
  });

  it('lands each key on one partition, the one the project partitioner predicts, and reads values back', async () => {
    const sent = new Map<string, string[]>();
    const producedOn = new Map<string, Set<number>>();
    for (let round = 0; round < ROUNDS; round++) {
      const messages = MARKETS.map((key) => ({
        key,
        value: JSON.stringify({ key, round, price: `${100 + round}.5` }),
      }));
      for (const m of messages) sent.set(m.key, [...(sent.get(m.key) ?? []), m.value]);
      // One send per market so that each record's metadata names its partition.
      for (const m of messages) {
        const [meta] = await producer.send({ topic, messages: [m] });
        expect(meta?.errorCode).toBe(0);
        producedOn.set(m.key, (producedOn.get(m.key) ?? new Set()).add(meta!.partition));
      }
    }

    const received = new Map<string, { partition: number; value: string }[]>();
    let count = 0;
    const total = MARKETS.length * ROUNDS;
    consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer!.run({
        eachMessage: async ({ partition, message }) => {
          const key = message.key!.toString();
          received.set(key, [...(received.get(key) ?? []), { partition, value: message.value!.toString() }]);
          if (++count === total) resolve();
        },
      });
    });
    await Promise.race([
      done,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`consumed ${count} of ${total}`)), 60_000)),
    ]);

    const partitionsUsed = new Set<number>();
    for (const key of MARKETS) {
      const records = received.get(key) ?? [];
      // Every record of a key on the same partition, in the order produced, values intact.
      const partitions = new Set(records.map((r) => r.partition));
      expect(partitions.size, key).toBe(1);
      const [partition] = partitions;
      expect(producedOn.get(key), key).toEqual(new Set([partition]));
      expect(partition, key).toBe(partitionForKey(key, PARTITIONS));
      expect(records.map((r) => r.value)).toEqual(sent.get(key));
      partitionsUsed.add(partition!);
    }
    // These six keys spread over more than one partition, so the check above is not vacuous.
    expect(partitionsUsed.size).toBeGreaterThan(1);
    expect(count).toBe(total);
  });
});
