import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { ALERTS_STREAM } from '../../internal/bus/subject-names.js';
import type { ContextIngestor } from '../../internal/ingest/context/context-ingestor.js';
import {
  type ContextTopics,
  newsRecord,
  referenceRecord,
  sentimentRecord,
} from '../../internal/ingest/context/records.js';
import { rssSource } from '../../internal/ingest/context/rss.js';
import { startContextIngestor } from '../../internal/ingest/context/start.js';
import { createKafkaAdmin, createTopicsAndWait } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import { createKafkaProducer } from '../../internal/log/kafka-producer.js';
import type { OutgoingRecord } from '../../internal/log/log.js';
import type { Alert } from '../../internal/market/alert.js';
import type { Trade } from '../../internal/market/trade.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { apiConfig } from '../../internal/serve/api-config.js';
import { createApiServer } from '../../internal/serve/api-server.js';
import { createMemoryCache } from '../../internal/sink/memory-cache.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { headline, reference, sentimentValue } from '../contracts/context-store-contract.js';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { spawnWorker, type WorkerProcess } from '../harness/worker-process.js';
import { createTradeTopics, replayWorkerArgv, sendTrades } from '../harness/worker-tables.js';
import { ContextStandIn } from '../support/context-stand-in.js';

/**
 * The worker's context part on the real servers: the context topics recorded into PostgreSQL
 * exactly once across SIGKILLs of the worker process, and the news-spike alert end to end (ingest's
 * RSS connector against a stand-in, trades that make a price spike, the worker's actors, the
 * alerts table and the API).
 */

function contextTopics(name: string): ContextTopics {
  return { reference: `${name}.ref`, sentiment: `${name}.sent`, news: `${name}.news`, rejects: `${name}.rej` };
}

function startWorker(topic: string, schema: string, topics: ContextTopics): WorkerProcess {
  const argv = [
    ...replayWorkerArgv(topic, schema, 0),
    ...['--reference-topic', topics.reference, '--sentiment-topic', topics.sentiment, '--news-topic', topics.news],
    ...['--index-actors', 'false'],
  ];
  return spawnWorker(argv);
}

const kafka = () =>
  new Kafka({
    clientId: 'context-worker-test',
    brokers: endpoint('KAFKA_BROKERS').split(','),
    logLevel: logLevel.NOTHING,
  });

async function send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
  const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < records.length; i += 500) {
    await producer.send({
      topic,
      messages: records
        .slice(i, i + 500)
        .map((r) => ({ key: r.key, value: Buffer.from(r.value), headers: { ...r.headers } })),
    });
  }
  await producer.disconnect();
}

describe('context in the worker, on real Kafka, PostgreSQL, NATS and Redis', () => {
  let db: pg.Client;
  const schemas: string[] = [];
  beforeAll(async () => {
    db = new pg.Client({ connectionString: endpoint('DATABASE_URL') });
    await db.connect();
  });
  afterAll(async () => {
    for (const s of schemas) await db?.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await db?.end();
  });

  it('records every context record exactly once across SIGKILLs of the worker', async () => {
    const name = freshName('ctxkill');
    const topic = `${name}.trades`;
    const topics = contextTopics(name);
    const schema = name.replaceAll('-', '_');
    schemas.push(schema);
    await createTradeTopics(kafka(), topic, 1);
    const admin = kafka().admin();
    await admin.connect();
    await createTopicsAndWait(
      admin,
      [topics.reference, topics.sentiment, topics.news].map((t) => ({ topic: t, numPartitions: 1 })),
    );
    await admin.disconnect();
    const T0 = Date.UTC(2026, 0, 1);
    // Headlines (every tenth one appended twice, as two ingest processes would), reference data, sentiment.
    const news = Array.from({ length: 20_000 }, (_, i) =>
      headline({ guid: `g${i}`, title: `BTC headline ${i}`, published: T0 + i * 1_000, summary: 'x'.repeat(400) }),
    );
    const newsRecords = news.flatMap((n, i) => (i % 10 === 0 ? [newsRecord(n), newsRecord(n)] : [newsRecord(n)]));
    const refs = Array.from({ length: 3_000 }, (_, i) =>
      reference({ asset: i % 2 === 0 ? 'BTC' : 'ETH', time: T0 + Math.floor(i / 2) * 60_000 }),
    );
    const days = Array.from({ length: 1_000 }, (_, i) => sentimentValue({ time: T0 - i * 86_400_000, value: i % 101 }));
    await send(topics.news, newsRecords);
    await send(topics.reference, refs.map(referenceRecord));
    await send(topics.sentiment, days.map(sentimentRecord));

    const committed = async () => {
      const { rows } = await db.query(
        `SELECT topic, next_offset::text AS o FROM "${schema}".checkpoints WHERE next_offset IS NOT NULL`,
      );
      return new Map(rows.map((r) => [r.topic as string, BigInt(r.o)]));
    };
    let midway = 0;
    for (let kill = 0; kill < 6; kill++) {
      const newsAt = async () => (await committed().catch(() => new Map<string, bigint>())).get(topics.news) ?? 0n;
      const before = await newsAt();
      const w = startWorker(topic, schema, topics);
      await w.running;
      // Killed as soon as this life has recorded something (a random moment after its first
      // commit), so the kill lands mid-recording however fast or loaded the machine is.
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline && (await newsAt()) === before) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, Math.random() * 200));
      w.child.kill('SIGKILL');
      await w.exited;
      const at = (await committed().catch(() => new Map<string, bigint>())).get(topics.news) ?? 0n;
      if (at > 0n && at < BigInt(newsRecords.length)) midway++;
    }
    const last = startWorker(topic, schema, topics);
    await last.running;
    await eventually(
      'the context topics recorded to their ends',
      async () => {
        const at = await committed();
        return at.get(topics.news) === BigInt(newsRecords.length) &&
          at.get(topics.reference) === BigInt(refs.length) &&
          at.get(topics.sentiment) === BigInt(days.length)
          ? true
          : undefined;
      },
      300_000,
      250,
    );
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    const count = async (table: string) =>
      Number((await db.query(`SELECT count(*)::int AS n FROM "${schema}".${table}`)).rows[0].n);
    expect(await count('headlines')).toBe(news.length);
    expect(await count('reference_snapshots')).toBe(refs.length);
    expect(await count('sentiment')).toBe(days.length);
    const { rows } = await db.query(
      `SELECT count(DISTINCT guid)::int AS n FROM "${schema}".headlines WHERE title LIKE 'BTC headline %'`,
    );
    expect(rows[0].n).toBe(news.length);
    // Kills must land with the headlines partly recorded, or this proves little (a run saw 6 of 6).
    expect(midway).toBeGreaterThanOrEqual(2);
  }, 600_000);

  it('a BTC headline from the RSS connector and a BTC price spike make one news_spike alert, in the table and the API', async () => {
    const name = freshName('ctxspike');
    const topic = `${name}.trades`;
    const topics = contextTopics(name);
    const schema = name.replaceAll('-', '_');
    schemas.push(schema);
    await createTradeTopics(kafka(), topic, 2);
    const bus = await createNatsBus({ servers: endpoint('NATS_URL'), name: 'context-spike-test' });
    await bus.ensureStream(ALERTS_STREAM);
    await bus.close();

    // 45 quiet minutes of a market of its own, then a 5% jump: a price spike on the 1m candles.
    const exchange = name.replaceAll('-', '').slice(0, 20);
    const T0 = Date.UTC(2026, 0, 5, 10, 0);
    const trades: Trade[] = [];
    let id = 0;
    const trade = (minute: number, second: number, price: string): Trade => ({
      exchange,
      symbol: 'BTCUSDT',
      market: 'BTC-USDT',
      tradeId: String(++id),
      price,
      size: '0.01',
      side: 'buy',
      eventTime: T0 + minute * 60_000 + second * 1_000,
      receiveTime: T0 + minute * 60_000 + second * 1_000,
    });
    for (let m = 0; m < 45; m++) {
      trades.push(trade(m, 1, (100 + (m % 3) * 0.01).toFixed(2)));
      trades.push(trade(m, 30, (100 + ((m + 1) % 3) * 0.01).toFixed(2)));
    }
    trades.push(trade(45, 1, '105.00'), trade(46, 1, '105.01'), trade(48, 1, '105.02'));
    const spikeTime = T0 + 46 * 60_000 - 1;

    // The headline, served by a stand-in feed and read by ingest's RSS connector onto the news topic.
    const standIn = await new ContextStandIn().start();
    const published = new Date(spikeTime - 3 * 60_000).toUTCString();
    standIn.script('/feed', {
      body: `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>Bitcoin jumps 5% as a large buyer sweeps the book</title><link>https://news.invalid/btc-jumps</link>
<guid>btc-jumps-${name}</guid><pubDate>${published}</pubDate><description>BTC rallied.</description></item>
<item><title>Markets quiet elsewhere</title><guid>quiet-${name}</guid><pubDate>${published}</pubDate></item>
</channel></rss>`,
    });
    const logger = silentLogger();
    const registry = new Registry();
    const producer = await createKafkaProducer({
      brokers: endpoint('KAFKA_BROKERS').split(','),
      clientId: 'ctx-ingest',
      logger,
      registry,
    });
    const admin = await createKafkaAdmin({ brokers: endpoint('KAFKA_BROKERS').split(','), clientId: 'ctx-a', logger });
    const stop = new AbortController();
    let ingestor: ContextIngestor;
    try {
      ingestor = await startContextIngestor({
        sources: [rssSource({ name: 'stand-in', url: `${standIn.url}/feed`, intervalMs: 200, requestsPerMinute: 600 })],
        topics,
        admin,
        consumer: (t) =>
          createKafkaConsumer({ brokers: endpoint('KAFKA_BROKERS').split(','), clientId: 'ctx-r', logger, topic: t }),
        producer,
        logger,
        registry,
        resumeTail: 1_000,
        signal: stop.signal,
      });
    } finally {
      await admin.close();
    }

    const worker = startWorker(topic, schema, topics);
    const store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema });
    try {
      await worker.running;
      const trader = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
      await trader.connect();
      await sendTrades(trader, topic, trades);
      await trader.disconnect();

      const newsSpikes = await eventually(
        'a news_spike alert in the table',
        async () => {
          const { rows } = await db
            .query(`SELECT id, kind, evidence FROM "${schema}".alerts ORDER BY id`)
            .catch(() => ({ rows: [] as Array<Record<string, unknown>> }));
          const found = rows.filter((r) => r.kind === 'news_spike');
          return found.length > 0 && rows.some((r) => r.kind === 'price_spike') ? found : undefined;
        },
        120_000,
        250,
      );
      expect(newsSpikes).toHaveLength(1);
      expect(newsSpikes[0]).toMatchObject({
        id: `${exchange}:BTCUSDT:price_spike:1m:${T0 + 45 * 60_000}:news`,
        evidence: {
          headline: 'Bitcoin jumps 5% as a large buyer sweeps the book',
          headlineSource: 'stand-in',
          secondsFromHeadline: 181,
        },
      });

      const api = createApiServer({
        store,
        cache: createMemoryCache(),
        bus: await createNatsBus({ servers: endpoint('NATS_URL'), name: 'context-spike-api' }),
        logger,
        registry: createRegistry({}, false),
        config: apiConfig({ intervals: ['1m'], source: { label: 'test', simulated: undefined } }),
      });
      await api.start(new AbortController().signal);
      try {
        const alerts = (
          await api.app.inject({ method: 'GET', url: `/api/v1/alerts?exchange=${exchange}&symbol=BTCUSDT` })
        ).json() as { alerts: Alert[] };
        const made = alerts.alerts.find((a) => a.kind === 'news_spike');
        expect(made?.message).toContain('headline: Bitcoin jumps 5%');
        const news = (await api.app.inject({ method: 'GET', url: '/api/v1/news?asset=BTC' })).json() as {
          news: Array<{ title: string }>;
        };
        expect(news.news.map((n) => n.title)).toEqual(['Bitcoin jumps 5% as a large buyer sweeps the book']);
      } finally {
        await api.close();
      }
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      stop.abort();
      await ingestor.drain();
      await producer.close();
      await standIn.close();
      await store.close();
    }
  }, 300_000);
});
