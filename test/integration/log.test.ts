import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Compression } from '../../internal/log/compression.js';
import { createLogProducer } from '../../internal/log/create-producer.js';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import { createKafkaProducer, type KafkaProducerOptions } from '../../internal/log/kafka-producer.js';
import { registerZstd, zstdCodecs } from '../../internal/log/kafka-zstd.js';
import type { LogConsumer, LogRecord } from '../../internal/log/log.js';
import { partitionForKey } from '../../internal/log/partitioner.js';
import type { ProducerClient } from '../../internal/log/producer-client.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { ConfigError } from '../../internal/runtime/errors.js';
import { defineLogContract } from '../contracts/log-contract.js';
import { endpoint, freshName } from '../harness/env.js';

const brokers = (): string[] => endpoint('KAFKA_BROKERS').split(',');

/** The contract on Kafka, the records produced by `client` (the consumer and admin are kafkajs's). */
function kafkaLogSubject(client: ProducerClient) {
  return async () => {
    const logger = silentLogger();
    const admin = await createKafkaAdmin({ brokers: brokers(), clientId: 'log-contract', logger });
    const producer = await createLogProducer(client, {
      brokers: brokers(),
      clientId: 'log-contract',
      logger,
      registry: new Registry(),
      lingerMs: 0,
    });
    const consumers: LogConsumer[] = [];
    return {
      admin,
      producer,
      consumer: async (topic: string) => {
        const c = await createKafkaConsumer({ brokers: brokers(), clientId: 'log-contract', topic, logger });
        consumers.push(c);
        return c;
      },
      freshTopic: () => freshName('tm-log'),
      close: async () => {
        for (const c of consumers) await c.close();
        await producer.close();
        await admin.close();
      },
    };
  };
}

defineLogContract('kafka', kafkaLogSubject('kafkajs'), { arriveMs: 30_000, quietMs: 1_500 });
defineLogContract('kafka, @platformatic/kafka producer', kafkaLogSubject('platformatic'), {
  arriveMs: 30_000,
  quietMs: 1_500,
});

/** A fresh topic of `partitions` and a producer and admin for it (closed by the caller). */
async function freshTopic(partitions: number, producer: Partial<KafkaProducerOptions> = {}) {
  const logger = silentLogger();
  const topic = freshName('tm-log');
  const admin = await createKafkaAdmin({ brokers: brokers(), clientId: 'log-test', logger });
  const p = await createKafkaProducer({
    brokers: brokers(),
    clientId: 'log-test',
    logger,
    registry: new Registry(),
    ...producer,
  });
  await admin.ensureTopic(topic, partitions);
  return { logger, topic, admin, producer: p };
}

describe('Kafka consumer', () => {
  it('stops fetching while its iterator is not consumed, loses nothing, and never commits offsets', async () => {
    const { logger, topic, admin, producer } = await freshTopic(1, { compression: 'none', maxBatchRecords: 50 });
    const groupId = freshName('tm-group');
    // Small fetches: many batches for a few thousand records.
    const consumer = await createKafkaConsumer({
      brokers: brokers(),
      clientId: 'log-test',
      topic,
      logger,
      groupId,
      bufferedBatches: 1,
      maxBytesPerPartition: 4_096,
    });
    const raw = new Kafka({ brokers: brokers(), clientId: 'log-test-raw', logLevel: logLevel.NOTHING }).admin();
    try {
      const enc = new TextEncoder();
      const n = 3_000;
      for (let i = 0; i < n; i += 500) {
        await producer.send(
          topic,
          Array.from({ length: 500 }, (_, j) => ({ key: 'k', value: enc.encode(`v${i + j}`.padEnd(64, '.')) })),
        );
      }
      await consumer.assign(0, 0n);
      const controller = new AbortController();
      const it = consumer.batches(controller.signal)[Symbol.asyncIterator]();
      const got: LogRecord[] = [];
      const first = await it.next();
      got.push(...(first.value?.records ?? []));
      expect(got.length).toBeGreaterThan(0);
      expect(got.length).toBeLessThan(n);

      // Not consuming: the hand-off fills and kafkajs stops fetching.
      await new Promise((r) => setTimeout(r, 1_000));
      const settled = consumer.stats().fetches;
      await new Promise((r) => setTimeout(r, 2_000));
      expect(consumer.stats().fetches).toBe(settled);
      expect(consumer.stats().buffered).toBeLessThanOrEqual(1);

      // Consuming again: everything, once, in order.
      while (got.length < n) {
        const r = await it.next();
        if (r.done) break;
        got.push(...r.value.records);
      }
      expect(got.map((r) => r.offset)).toEqual(Array.from({ length: n }, (_, i) => BigInt(i)));
      controller.abort();
      await it.return?.();

      await raw.connect();
      const committed = await raw.fetchOffsets({ groupId, topics: [topic] });
      expect(committed[0]?.partitions.map((p) => p.offset)).toEqual(['-1']);
    } finally {
      await raw.disconnect();
      await consumer.close();
      await producer.close();
      await admin.close();
    }
  });

  it('a pause issued while batches wait in the hand-off holds them back and redelivers them after resume', async () => {
    const { logger, topic, admin, producer } = await freshTopic(1, { compression: 'none', maxBatchRecords: 20 });
    const consumer = await createKafkaConsumer({
      brokers: brokers(),
      clientId: 'log-test',
      topic,
      logger,
      bufferedBatches: 2,
      maxBytesPerPartition: 2_048,
    });
    try {
      const enc = new TextEncoder();
      await producer.send(
        topic,
        Array.from({ length: 400 }, (_, i) => ({ key: 'k', value: enc.encode(`v${i}`.padEnd(64, '.')) })),
      );
      await consumer.assign(0, 0n);
      const controller = new AbortController();
      const it = consumer.batches(controller.signal)[Symbol.asyncIterator]();
      const got: LogRecord[] = [...((await it.next()).value?.records ?? [])];
      // Let the hand-off fill, then pause: what waits there must not come out before resume.
      await expect
        .poll(() => (consumer as unknown as { stats(): { buffered: number } }).stats().buffered, {
          timeout: 10_000,
          interval: 20,
          message: 'a buffered batch',
        })
        .toBeGreaterThanOrEqual(1);
      consumer.pause(0);
      const during: LogRecord[] = [];
      const next = it.next().then((r) => {
        if (!r.done) during.push(...r.value.records);
        return r;
      });
      await new Promise((r) => setTimeout(r, 1_500));
      expect(during).toEqual([]);
      consumer.resume(0);
      const r = await next;
      if (!r.done) got.push(...r.value.records);
      while (got.length < 400) {
        const x = await it.next();
        if (x.done) break;
        got.push(...x.value.records);
      }
      expect(got.map((x) => x.offset)).toEqual(Array.from({ length: 400 }, (_, i) => BigInt(i)));
      controller.abort();
      await it.return?.();
    } finally {
      await consumer.close();
      await producer.close();
      await admin.close();
    }
  });

  it('a group rebalance (a stranger joins and leaves its group) neither repeats nor skips records', async () => {
    // A rejoin gives kafkajs a fresh offset manager (no committed offsets: back to the earliest)
    // and may move partitions away and back; the consumer must re-apply its positions.
    const { logger, topic, admin, producer } = await freshTopic(2);
    const groupId = freshName('tm-group');
    // Small fetches, so that a fetch from the earliest offset returns only records already seen.
    const consumer = await createKafkaConsumer({
      brokers: brokers(),
      clientId: 'log-test',
      topic,
      logger,
      groupId,
      maxBytesPerPartition: 1_024,
    });
    const stranger = new Kafka({ brokers: brokers(), clientId: 'stranger', logLevel: logLevel.NOTHING }).consumer({
      groupId,
      maxWaitTimeInMs: 100,
    });
    const enc = new TextEncoder();
    const key = ['a', 'b', 'c', 'd', 'e', 'f'].find((k) => partitionForKey(k, 2) === 0)!;
    const send = (from: number, n: number) =>
      producer.send(
        topic,
        Array.from({ length: n }, (_, i) => ({ key, value: enc.encode(`v${from + i}`.padEnd(64, '.')) })),
      );
    const got: LogRecord[] = [];
    const controller = new AbortController();
    const loop = (async () => {
      for await (const b of consumer.batches(controller.signal)) got.push(...b.records);
    })();
    try {
      await send(0, 100);
      await consumer.assign(0, 0n);
      await expect.poll(() => got.length, { timeout: 30_000, interval: 20, message: 'the first 100' }).toBe(100);
      const joins = consumer.stats().joins;
      await stranger.connect();
      await stranger.subscribe({ topic, fromBeginning: true });
      await stranger.run({ autoCommit: false, eachBatch: async () => {} });
      await expect
        .poll(() => consumer.stats().joins, { timeout: 60_000, interval: 20, message: 'a rebalance' })
        .toBeGreaterThan(joins);
      await send(100, 100);
      await stranger.disconnect();
      await expect
        .poll(() => got.length, { timeout: 60_000, interval: 20, message: 'the next 100 after the stranger left' })
        .toBeGreaterThanOrEqual(200);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(got.map((r) => r.offset)).toEqual(Array.from({ length: 200 }, (_, i) => BigInt(i)));
      expect(got.every((r) => r.partition === 0)).toBe(true);
    } finally {
      controller.abort();
      await loop;
      await stranger.disconnect().catch(() => {});
      await consumer.close();
      await producer.close();
      await admin.close();
    }
  });

  it('a missing topic is a configuration error for the admin and the consumer', async () => {
    const admin = await createKafkaAdmin({ brokers: brokers(), clientId: 'log-test', logger: silentLogger() });
    try {
      const topic = freshName('tm-missing');
      await expect(admin.partitionCount(topic)).rejects.toBeInstanceOf(ConfigError);
      await expect(
        createKafkaConsumer({ brokers: brokers(), clientId: 'log-test', topic, logger: silentLogger() }),
      ).rejects.toBeInstanceOf(ConfigError);
    } finally {
      await admin.close();
    }
  });

  it("a topic it creates is stamped with the broker's append time, not the producer's", async () => {
    const { logger, topic, admin, producer } = await freshTopic(1);
    const kafka = new Kafka({ clientId: 'log-test', brokers: brokers(), logLevel: logLevel.NOTHING });
    const raw = kafka.producer();
    await raw.connect();
    const consumer = await createKafkaConsumer({ brokers: brokers(), clientId: 'log-test', topic, logger });
    try {
      const before = Date.now();
      // A producer that claims a time an hour ago: the broker's append time replaces it.
      await raw.send({ topic, messages: [{ key: 'k', value: 'v', timestamp: String(before - 3_600_000) }] });
      await consumer.assign(0, 0n);
      let got: LogRecord | undefined;
      for await (const batch of consumer.batches(AbortSignal.timeout(30_000))) {
        got = batch.records[0];
        if (got) break;
      }
      expect(got?.timestamp).toBeGreaterThanOrEqual(before - 1_000);
      expect(got?.timestamp).toBeLessThanOrEqual(Date.now());
    } finally {
      await raw.disconnect();
      await consumer.close();
      await producer.close();
      await admin.close();
    }
  });

  it.each<Compression>(['zstd', 'gzip', 'none'])(
    'records produced with %s come back byte for byte, through the zstd codec only when zstd',
    async (compression) => {
      const { logger, topic, admin, producer } = await freshTopic(1, { compression });
      const consumer = await createKafkaConsumer({ brokers: brokers(), clientId: 'log-test', topic, logger });
      // The clients registered the codec; count its calls from here on.
      const zstd = zstdCodecs.current();
      const calls = { compress: 0, decompress: 0 };
      zstdCodecs.replace({
        compress: (e) => {
          calls.compress++;
          return zstd.compress(e);
        },
        decompress: (b) => {
          calls.decompress++;
          return zstd.decompress(b);
        },
      });
      try {
        const sent = Array.from({ length: 2_000 }, (_, i) => ({
          key: `k${i % 7}`,
          value: new TextEncoder().encode(`{"trade":${i},"price":"${(60_000 + i / 100).toFixed(2)}"}`),
        }));
        for (let i = 0; i < sent.length; i += 500) await producer.send(topic, sent.slice(i, i + 500));
        await consumer.assign(0, 0n);
        const got: LogRecord[] = [];
        for await (const batch of consumer.batches(AbortSignal.timeout(30_000))) {
          got.push(...batch.records);
          if (got.length >= sent.length) break;
        }
        expect(got.map((r) => [r.key, Buffer.from(r.value).toString()])).toEqual(
          sent.map((r) => [r.key, Buffer.from(r.value).toString()]),
        );
        const viaZstd = compression === 'zstd';
        expect(calls.compress > 0).toBe(viaZstd);
        expect(calls.decompress > 0).toBe(viaZstd);
      } finally {
        registerZstd();
        await consumer.close();
        await producer.close();
        await admin.close();
      }
    },
  );
});

describe('the @platformatic/kafka producer beside the kafkajs one', () => {
  it('puts every market on the partition kafkajs (and the Java client) puts it on', async () => {
    const logger = silentLogger();
    const topic = freshName('tm-log');
    const partitions = 12;
    const admin = await createKafkaAdmin({ brokers: brokers(), clientId: 'log-test', logger });
    await admin.ensureTopic(topic, partitions);
    const keys = Array.from({ length: 200 }, (_, i) => `${['binance', 'coinbase', 'okx', 'bybit'][i % 4]}:SYM${i}USDT`);
    const enc = new TextEncoder();
    const consumer = await createKafkaConsumer({ brokers: brokers(), clientId: 'log-test', topic, logger });
    try {
      for (const client of ['kafkajs', 'platformatic'] as const) {
        const p = await createLogProducer(client, {
          brokers: brokers(),
          clientId: 'log-test',
          logger,
          registry: new Registry(),
        });
        await p.send(
          topic,
          keys.map((key) => ({ key, value: enc.encode(`${client} ${key}`) })),
        );
        await p.close();
      }
      for (let p = 0; p < partitions; p++) await consumer.assign(p, 0n);
      const got: LogRecord[] = [];
      for await (const batch of consumer.batches(AbortSignal.timeout(30_000))) {
        got.push(...batch.records);
        if (got.length >= 2 * keys.length) break;
      }
      const placed = (client: string) =>
        new Map(
          got
            .filter((r) => Buffer.from(r.value).toString().startsWith(`${client} `))
            .map((r) => [r.key, r.partition] as const),
        );
      const expected = new Map(keys.map((k) => [k, partitionForKey(k, partitions)] as const));
      expect(placed('kafkajs')).toEqual(expected);
      expect(placed('platformatic')).toEqual(expected);
      expect(new Set(expected.values()).size).toBe(partitions);
    } finally {
      await consumer.close();
      await admin.close();
    }
  }, 90_000);

  it.each<Compression>(['zstd', 'gzip', 'none'])(
    'records it produces with %s come back byte for byte, headers and order kept, through the kafkajs consumer',
    async (compression) => {
      const logger = silentLogger();
      const topic = freshName('tm-log');
      const admin = await createKafkaAdmin({ brokers: brokers(), clientId: 'log-test', logger });
      await admin.ensureTopic(topic, 1);
      const producer = await createLogProducer('platformatic', {
        brokers: brokers(),
        clientId: 'log-test',
        logger,
        registry: new Registry(),
        compression,
      });
      const consumer = await createKafkaConsumer({ brokers: brokers(), clientId: 'log-test', topic, logger });
      try {
        const sent = Array.from({ length: 2_000 }, (_, i) => ({
          key: `k${i % 7}`,
          value: new TextEncoder().encode(`{"trade":${i},"price":"${(60_000 + i / 100).toFixed(2)}"}`),
          headers: { schema: 'trade.v1' },
        }));
        await Promise.all(
          Array.from({ length: 4 }, (_, j) => producer.send(topic, sent.slice(j * 500, j * 500 + 500))),
        );
        await consumer.assign(0, 0n);
        const got: LogRecord[] = [];
        for await (const batch of consumer.batches(AbortSignal.timeout(30_000))) {
          got.push(...batch.records);
          if (got.length >= sent.length) break;
        }
        expect(got.map((r) => [r.key, Buffer.from(r.value).toString(), r.headers])).toEqual(
          sent.map((r) => [r.key, Buffer.from(r.value).toString(), { schema: 'trade.v1' }]),
        );
      } finally {
        await consumer.close();
        await producer.close();
        await admin.close();
      }
    },
    60_000,
  );
});
