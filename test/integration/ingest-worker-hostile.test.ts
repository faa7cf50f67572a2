import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { actorConfig } from '../../internal/actor/config.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { parseWorkerOptions } from '../../internal/config/worker.js';
import { range } from '../../internal/ingest/testing/local-binance.js';
import { type LocalKraken, startLocalKraken } from '../../internal/ingest/testing/local-kraken.js';
import { createTopicsAndWait } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import { createKafkaProducer } from '../../internal/log/kafka-producer.js';
import { tradeRecord } from '../../internal/log/record.js';
import type { Trade } from '../../internal/market/trade.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { createRedisCache } from '../../internal/sink/redis-cache.js';
import { marketActorFactory } from '../../internal/worker/market-actors.js';
import { createWorkerMetrics } from '../../internal/worker/metrics.js';
import { workerConfig } from '../../internal/worker/options.js';
import { createWorker } from '../../internal/worker/worker.js';
import { endpoint, freshName } from '../harness/env.js';
import { loadRealTrades } from '../support/real-trades.js';
import { ingestScenario, metricValues, readAll } from './ingest-support.js';

// Hostile trades on the real path: a local Kraken into the real Kafka (ingest's bounds), and
// records forged straight into Kafka read by a worker on the real Kafka and PostgreSQL (the
// worker's bounds). docs/SECURITY.md, "Trade validation and event time".
const N = 1_000;
const YEAR = 365 * 86_400_000;
let real: Trade[] = [];
const exchanges: LocalKraken[] = [];

beforeAll(async () => {
  real = (await loadRealTrades())
    .slice(0, N)
    .map((t) => ({ ...t, exchange: 'kraken', symbol: 'BTC/USD', market: 'BTC-USD' }));
});
afterEach(async () => {
  await Promise.all(exchanges.splice(0).map((e) => e.close()));
});

describe('hostile trades from a venue, through ingest into Kafka', () => {
  it('a trade dated a year ahead is rejected; a reset of the ids is recorded and its trades produced', async () => {
    const last = real[N - 1] as Trade;
    // The venue sends one trade dated a year after it is received, then starts its ids over at 1.
    const future: Trade = { ...last, tradeId: String(Number(last.tradeId) + 1), eventTime: Date.now() + YEAR };
    const reset = Array.from({ length: 200 }, (_, i) => ({
      ...last,
      tradeId: String(i + 1),
      eventTime: last.eventTime + 1_000 + i,
    }));
    const trades = [...real, future, ...reset];
    const ex = await startLocalKraken({
      trades,
      script: (n) => (n === 1 ? { send: range(0, trades.length), after: 'silent' } : undefined),
    });
    exchanges.push(ex);
    const { records, gaps, rejects, registry } = await ingestScenario(
      { venue: 'kraken', symbols: ['BTC/USD'], wsUrl: ex.wsUrl, restUrl: '' },
      N + reset.length,
    );
    expect(records.map((r) => r.trade.tradeId)).toEqual([...real, ...reset].map((t) => t.tradeId));
    expect(rejects.map((r) => r.reason)).toEqual(['future-time']);
    expect(gaps).toMatchObject([{ kind: 'reset', fromId: last.tradeId, toId: '1', missing: 0 }]);
    expect((await metricValues(registry, 'tickmesh_ingest_id_resets_total'))[0]?.value).toBe(1);
  }, 120_000);
});

describe('hostile records in Kafka, read by a worker', () => {
  it('a NUL trade id and a trade dated 2099 go to the rejected topic; the partition and its other market go on', async () => {
    const topic = freshName('hostile');
    const schema = topic.replace(/[-.]/g, '_');
    const logger = silentLogger();
    const brokers = endpoint('KAFKA_BROKERS').split(',');
    const kafka = new Kafka({ clientId: 'hostile-test', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    // One partition: both markets share the partition watermark the 2099 trade used to move.
    await createTopicsAndWait(admin, [
      { topic, numPartitions: 1 },
      { topic: `${topic}.late`, numPartitions: 1 },
      { topic: `${topic}.rejected`, numPartitions: 1 },
    ]);
    await admin.disconnect();

    const t0 = Date.UTC(2024, 0, 1);
    const btc = (id: number, ms: number, extra: Partial<Trade> = {}): Trade => ({
      exchange: 'okx',
      symbol: 'BTC-USDT',
      market: 'BTC-USDT',
      tradeId: String(id),
      price: '42000.1',
      size: '0.01',
      side: 'buy',
      eventTime: t0 + ms,
      receiveTime: t0 + ms,
      ...extra,
    });
    const eth = (id: number, ms: number): Trade => ({ ...btc(id, ms), symbol: 'ETH-USDT', market: 'ETH-USDT' });
    const records = [
      btc(1, 0),
      eth(1, 1_000),
      btc(2, 2_000, { tradeId: '2\u0000' }),
      btc(3, 3_000, { eventTime: Date.UTC(2099, 0, 1) }),
      eth(2, 30_000),
      eth(3, 70_000),
      btc(4, 125_000),
      eth(4, 130_000),
    ].map(tradeRecord);
    const registry = createRegistry({}, false);
    const producer = await createKafkaProducer({ brokers, clientId: 'hostile-test', logger, registry });
    await producer.send(topic, records);

    const store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema });
    const bus = await createNatsBus({ servers: endpoint('NATS_URL') });
    const cache = createRedisCache({ url: endpoint('REDIS_URL'), keyPrefix: `${schema}:` });
    const consumer = await createKafkaConsumer({ brokers, clientId: 'hostile-test', logger, topic });
    const metrics = createWorkerMetrics(registry);
    const options = parseWorkerOptions({
      topic,
      'clock-watermark': 'false',
      'checkpoint-interval-ms': '50',
      'late-topic': `${topic}.late`,
      'rejected-topic': `${topic}.rejected`,
    });
    const worker = createWorker({
      consumer,
      producer,
      store,
      bus,
      cache,
      actors: marketActorFactory(actorConfig({ intervals: ['1m'] })),
      logger,
      metrics,
      clock: Date.now,
      config: workerConfig(options),
    });
    await worker.start(AbortSignal.timeout(120_000));
    await worker.assign(0, 1);
    const committed = async () => (await store.loadCheckpoint(topic, 0))?.nextOffset ?? 0n;
    await expect
      .poll(committed, { timeout: 60_000, interval: 100, message: 'the worker to reach the end of the partition' })
      .toBeGreaterThanOrEqual(BigInt(records.length));
    await worker.drain();

    const rejected = await readAll(`${topic}.rejected`, 2);
    expect(rejected.map((r) => [r.headers['tm-reject-reason'], r.headers['tm-source']])).toEqual([
      ['bad-trade-id', '0@2'],
      ['future-time', '0@3'],
    ]);
    const late = await readAll(`${topic}.late`);
    expect(late).toEqual([]);
    const candles = async (symbol: string) => store.candles({ exchange: 'okx', symbol, interval: '1m' });
    // ETH-USDT's candles are those of its own trades, none swept to 2099.
    expect((await candles('ETH-USDT')).map((c) => [c.openTime, c.trades])).toEqual([
      [t0, 2],
      [t0 + 60_000, 1],
    ]);
    expect((await candles('BTC-USDT')).every((c) => c.openTime < Date.UTC(2025, 0, 1))).toBe(true);
    await Promise.all([consumer.close(), producer.close(), bus.close(), cache.close()]);
    await store.close();
  }, 180_000);
});
