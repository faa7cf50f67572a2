import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { actorConfig } from '../../internal/actor/config.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { parseWorkerOptions } from '../../internal/config/worker.js';
import { simMarket, simulateTrades } from '../../internal/ingest/simulator.js';
import { createTopicsAndWait } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import { createKafkaProducer } from '../../internal/log/kafka-producer.js';
import { tradeRecord } from '../../internal/log/record.js';
import type { Trade } from '../../internal/market/trade.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { createRedisCache } from '../../internal/sink/redis-cache.js';
import type { CommitBatch, Store } from '../../internal/sink/store.js';
import { marketActorFactory } from '../../internal/worker/market-actors.js';
import { createWorkerMetrics } from '../../internal/worker/metrics.js';
import { workerConfig } from '../../internal/worker/options.js';
import { createWorker } from '../../internal/worker/worker.js';
import { endpoint, freshName } from '../harness/env.js';

/** The real PostgreSQL store, slowed: every commit waits `delayMs` first (a sink falling behind). */
function slowed(store: Store, delay: { ms: number }): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'commit') {
        return async (batch: CommitBatch) => {
          await new Promise((r) => setTimeout(r, delay.ms));
          return target.commit(batch);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describe('worker backpressure against real Kafka and PostgreSQL', () => {
  it('pauses the partitions of a slowed sink, keeps its queues and memory bounded, and catches up', async () => {
    const topic = freshName('bp');
    const schema = freshName('bp').replace(/-/g, '_');
    const logger = silentLogger();
    const brokers = endpoint('KAFKA_BROKERS').split(',');
    const kafka = new Kafka({ clientId: 'bp-test', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsAndWait(admin, [{ topic, numPartitions: 2 }]);

    const trades: Trade[] = [];
    const ac = new AbortController();
    const markets = Array.from({ length: 20 }, (_, i) => simMarket(`B${i}-USDT`));
    for await (const t of simulateTrades(
      { markets, realtime: false, seed: 7, startTime: Date.UTC(2024, 0, 1), ratePerSecond: 2 },
      ac.signal,
    )) {
      trades.push(t);
      if (trades.length >= 150_000) break;
    }
    ac.abort();
    const registry = createRegistry({}, false);
    const producer = await createKafkaProducer({ brokers, clientId: 'bp-test', logger, registry });
    for (let i = 0; i < trades.length; i += 10_000)
      await producer.send(topic, trades.slice(i, i + 10_000).map(tradeRecord));
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();

    const store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema });
    const delay = { ms: 400 };
    const bus = await createNatsBus({ servers: endpoint('NATS_URL') });
    const cache = createRedisCache({ url: endpoint('REDIS_URL'), keyPrefix: `${schema}:` });
    // Small fetches: the trades are gzip-compressed, and a 1 MB fetch would hand each partition's
    // whole share over in one or two batches, leaving the slowed sink nothing to hold back.
    const consumer = await createKafkaConsumer({
      brokers,
      clientId: 'bp-test',
      logger,
      topic,
      bufferedBatches: 2,
      maxBytesPerPartition: 16_384,
    });
    const metrics = createWorkerMetrics(registry);
    const options = parseWorkerOptions({
      topic,
      'clock-watermark': 'false',
      'mailbox-capacity': '4',
      'max-pending-rows': '500',
      'checkpoint-interval-ms': '50',
      'late-topic': `${topic}.late`,
      'rejected-topic': `${topic}.rejected`,
    });
    const worker = createWorker({
      consumer,
      producer,
      store: slowed(store, delay),
      bus,
      cache,
      actors: marketActorFactory(actorConfig({ intervals: ['1m', '5m'] })),
      logger,
      metrics,
      clock: Date.now,
      config: workerConfig(options),
    });
    await worker.start(AbortSignal.timeout(300_000));
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    await worker.assign(0, 1);
    await worker.assign(1, 1);

    let sawPaused = false;
    let maxMailbox = 0;
    let maxBuffered = 0;
    let maxHeap = 0;
    const sample = async () => {
      const paused = (await metrics.paused.get()).values.some((v) => v.value === 1);
      sawPaused ||= paused;
      for (const v of (await metrics.mailboxDepth.get()).values) maxMailbox = Math.max(maxMailbox, v.value);
      maxBuffered = Math.max(maxBuffered, consumer.stats().buffered);
      maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
    };
    for (let i = 0; i < 40; i++) {
      await sample();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sawPaused).toBe(true);
    expect(maxMailbox).toBeLessThanOrEqual(4);
    expect(maxBuffered).toBeLessThanOrEqual(2);
    // 150,000 trades are about 20 MB as records; bounded queues hold a small part of them.
    expect(maxHeap - heapBefore).toBeLessThan(150 * 1024 * 1024);

    delay.ms = 0;
    const ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    for (;;) {
      const cps = await Promise.all([0, 1].map((p) => store.loadCheckpoint(topic, p)));
      if (cps.every((c, p) => (c?.nextOffset ?? 0n) >= (ends.get(p) ?? 0n))) break;
      await sample();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await metrics.paused.get()).values.every((v) => v.value === 0)).toBe(true);
    expect((await metrics.pausedSeconds.get()).values.reduce((s, v) => s + v.value, 0)).toBeGreaterThan(0);
    await worker.drain();
    await Promise.all([consumer.close(), producer.close(), bus.close(), cache.close()]);
    await store.close();
  }, 600_000);
});
