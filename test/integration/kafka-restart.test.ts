import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogProducer } from '../../internal/log/create-producer.js';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import { createKafkaProducer } from '../../internal/log/kafka-producer.js';
import type { LogAdmin, LogConsumer, LogProducer, OutgoingRecord } from '../../internal/log/log.js';
import { createLogger, type Logger } from '../../internal/observe/logger.js';
import { type PrivateServers, startPrivateServers } from '../harness/private-servers.js';

/*
 * The Kafka adapters across a restart of the broker (a private one: test/harness/private-servers.ts).
 * A consumer started on a fresh or just restarted broker meets a group coordinator that is still
 * loading; a running consumer and producer lose their connections. Neither may lose, repeat or
 * reorder a record, and both must work again once the broker is back.
 */

const PARTITIONS = 2;
const DOWN_MS = 15_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function records(from: number, to: number): OutgoingRecord[] {
  return Array.from({ length: to - from }, (_, i) => ({
    key: `k${(from + i) % 7}`,
    value: encoder.encode(String(from + i)),
  }));
}

/** Reads every assigned partition into `seen` (partition -> values in offset order) until aborted. */
async function collect(
  consumer: LogConsumer,
  seen: Map<number, Array<{ offset: bigint; value: number }>>,
  signal: AbortSignal,
) {
  for await (const batch of consumer.batches(signal)) {
    const list = seen.get(batch.partition) ?? [];
    for (const r of batch.records) list.push({ offset: r.offset, value: Number(decoder.decode(r.value)) });
    seen.set(batch.partition, list);
  }
}

describe('Kafka adapters across a broker restart', () => {
  let servers: PrivateServers | undefined;
  let brokers: string[];
  let logger: Logger;
  let passed = false;

  beforeAll(async () => {
    servers = await startPrivateServers(['kafka']);
    brokers = (servers.env.KAFKA_BROKERS as string).split(',');
    logger = createLogger({ level: 'warn', destination: createWriteStream(join(servers.dir, 'logs', 'clients.log')) });
  }, 600_000);

  afterAll(async () => {
    if (!passed && servers)
      console.error(`kafka-restart: the broker's and the clients' logs are kept in ${servers.dir}/logs`);
    await servers?.close(!passed);
  }, 120_000);

  it('consumes and produces every record once, in order, before and after the restart', async () => {
    const run = servers as PrivateServers;
    const topic = 'restart';
    const admin: LogAdmin = await createKafkaAdmin({ brokers, clientId: 'restart-test', logger });
    await admin.ensureTopic(topic, PARTITIONS);
    await admin.close();
    const producer: LogProducer = await createKafkaProducer({
      brokers,
      clientId: 'restart-test',
      logger,
      registry: new Registry(),
    });
    // The first consumer group on a fresh broker: its coordinator is created and loaded now.
    const consumer = await createKafkaConsumer({ brokers, clientId: 'restart-test', topic, logger });
    for (let p = 0; p < PARTITIONS; p++) await consumer.assign(p, 0n);
    const seen = new Map<number, Array<{ offset: bigint; value: number }>>();
    const stop = new AbortController();
    const reading = collect(consumer, seen, stop.signal);
    const count = () => [...seen.values()].reduce((n, l) => n + l.length, 0);

    await producer.send(topic, records(0, 1_000));
    await expect
      .poll(() => count(), { timeout: 180_000, interval: 50, message: 'the records before the restart' })
      .toBe(1_000);

    await run.run('kafka', 'stop');
    // A send while the broker is gone waits for it (or fails as retriable); it must not break the producer.
    const during = producer.send(topic, records(1_000, 1_500)).then(
      () => 'sent',
      (err: unknown) => err,
    );
    // Longer than kafkajs's own retries (5, about 10 s in all) last.
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await run.run('kafka', 'start');
    const restartedAt = performance.now();
    const duringResult = await during;
    if (duringResult !== 'sent') {
      expect((duringResult as { retriable?: boolean }).retriable, `send failed: ${String(duringResult)}`).toBe(true);
    }
    // A consumer started right after the restart, while the group coordinators load again.
    const late = await createKafkaConsumer({ brokers, clientId: 'restart-test-late', topic, logger });
    await late.assign(0, 0n);
    await producer.send(topic, records(1_500, 2_000));
    const expected = duringResult === 'sent' ? 2_000 : 1_500;
    await expect
      .poll(() => count(), { timeout: 180_000, interval: 50, message: 'the records after the restart' })
      .toBeGreaterThanOrEqual(expected);
    const recoveredMs = performance.now() - restartedAt;
    await new Promise((r) => setTimeout(r, 1_000));

    const lateSeen = new Map<number, Array<{ offset: bigint; value: number }>>();
    const lateStop = new AbortController();
    const lateReading = collect(late, lateSeen, lateStop.signal);
    await expect
      .poll(() => lateSeen.get(0)?.length ?? 0, {
        timeout: 180_000,
        interval: 50,
        message: 'the late consumer to read partition 0',
      })
      .toBe(seen.get(0)?.length);
    lateStop.abort();
    await lateReading;
    stop.abort();
    await reading;

    const values: number[] = [];
    for (const [p, list] of seen) {
      // Every offset once, contiguous from 0: nothing lost or repeated by the consumer.
      expect(list.map((r) => r.offset)).toEqual(list.map((_, i) => BigInt(i)));
      // Per partition the producer kept the order of its sends (keys map to partitions).
      const ordered = [...list.map((r) => r.value)].sort((a, b) => a - b);
      expect(
        list.map((r) => r.value),
        `partition ${p}`,
      ).toEqual(ordered);
      values.push(...list.map((r) => r.value));
    }
    values.sort((a, b) => a - b);
    const want = duringResult === 'sent' ? records(0, 2_000) : [...records(0, 1_000), ...records(1_500, 2_000)];
    expect(values).toEqual(want.map((r) => Number(decoder.decode(r.value))));
    expect(lateSeen.get(0)).toEqual(seen.get(0));
    console.info(
      `kafka-restart: the send during the outage ${duringResult === 'sent' ? 'waited and was sent' : 'failed as retriable'}; records flowed ${Math.round(recoveredMs)} ms after the broker was up again`,
    );

    await Promise.all([consumer.close(), late.close(), producer.close()]);
    passed = true;
  }, 600_000);

  it('the @platformatic/kafka producer waits out the outage and appends every record once, in order', async () => {
    const run = servers as PrivateServers;
    passed = false;
    const topic = 'restart-platformatic';
    const admin: LogAdmin = await createKafkaAdmin({ brokers, clientId: 'restart-test', logger });
    await admin.ensureTopic(topic, PARTITIONS);
    const producer = await createLogProducer('platformatic', {
      brokers,
      clientId: 'restart-test-platformatic',
      logger,
      registry: new Registry(),
    });
    await producer.send(topic, records(0, 1_000));
    await run.run('kafka', 'stop');
    const during = producer.send(topic, records(1_000, 1_500));
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await run.run('kafka', 'start');
    // The client retries without limit: the send waits for the broker instead of failing.
    await during;
    await producer.send(topic, records(1_500, 2_000));
    await producer.close();
    const ends = await admin.endOffsets(topic);
    await admin.close();
    const consumer = await createKafkaConsumer({ brokers, clientId: 'restart-test', topic, logger });
    const seen = new Map<number, Array<{ offset: bigint; value: number }>>();
    const stop = new AbortController();
    for (let p = 0; p < PARTITIONS; p++) await consumer.assign(p, 0n);
    const reading = collect(consumer, seen, stop.signal);
    const total = [...ends.values()].reduce((n, e) => n + Number(e), 0);
    await expect
      .poll(() => [...seen.values()].reduce((n, l) => n + l.length, 0), { timeout: 60_000, interval: 50 })
      .toBe(total);
    stop.abort();
    await reading;
    await consumer.close();
    const values: number[] = [];
    for (const [p, list] of seen) {
      const inPartition = list.map((r) => r.value);
      expect(inPartition, `partition ${p} in send order`).toEqual([...inPartition].sort((a, b) => a - b));
      values.push(...inPartition);
    }
    // Nothing lost and, the idempotent producer kept across the outage, nothing appended twice.
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
    passed = true;
  }, 600_000);
});
