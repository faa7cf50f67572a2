import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContextIngestor } from '../../internal/ingest/context/context-ingestor.js';
import { fearGreedSource } from '../../internal/ingest/context/fear-greed.js';
import type { ContextTopics, NewsRecord, SentimentRecord } from '../../internal/ingest/context/records.js';
import { rssSource } from '../../internal/ingest/context/rss.js';
import { startContextIngestor } from '../../internal/ingest/context/start.js';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import { createKafkaProducer } from '../../internal/log/kafka-producer.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { freshName } from '../harness/env.js';
import { ContextStandIn, referenceSample } from '../support/context-stand-in.js';
import { brokers, readAll } from './ingest-support.js';

const decoder = new TextDecoder();

/** One ingest process with the two sources, on the real Kafka; stopped with drain(). */
async function startProcess(standIn: ContextStandIn, topics: ContextTopics): Promise<() => Promise<void>> {
  const logger = silentLogger();
  const registry = new Registry();
  const producer = await createKafkaProducer({ brokers: brokers(), clientId: 'context-test', logger, registry });
  const admin = await createKafkaAdmin({ brokers: brokers(), clientId: 'context-test-admin', logger });
  const controller = new AbortController();
  let ingestor: ContextIngestor;
  try {
    ingestor = await startContextIngestor({
      sources: [
        fearGreedSource({ baseUrl: standIn.url, intervalMs: 50, requestsPerMinute: 6_000 }),
        rssSource({ name: 'coindesk', url: `${standIn.url}/coindesk`, intervalMs: 50, requestsPerMinute: 6_000 }),
      ],
      topics,
      admin,
      consumer: (topic) => createKafkaConsumer({ brokers: brokers(), clientId: 'context-test-resume', logger, topic }),
      producer,
      logger,
      registry,
      resumeTail: 10_000,
      signal: controller.signal,
    });
  } finally {
    await admin.close();
  }
  return async () => {
    controller.abort();
    await ingestor.drain();
    await producer.close();
  };
}

describe('context ingest on the real Kafka', () => {
  let standIn: ContextStandIn;
  beforeAll(async () => {
    standIn = await new ContextStandIn().start();
  });
  afterAll(() => standIn.close());

  it('creates its topics, appends history and headlines once, and appends nothing again after a restart', async () => {
    const name = freshName('ctx');
    const topics: ContextTopics = {
      reference: `${name}.reference`,
      sentiment: `${name}.sentiment`,
      news: `${name}.news`,
      rejects: `${name}.rejected`,
    };
    standIn.script(
      '/fng/',
      { body: referenceSample('altme-fng', 'fanyilun0_CryptoSentinel_fng_history.json') },
      { body: referenceSample('altme-fng', 'lutogin_fear-and-greed-bot_alternative_fng_2026-09-25.json') },
    );
    standIn.script('/coindesk', { body: referenceSample('crypto-news-rss', 'zotochev_trade-news_coindesk.xml') });
    const stop = await startProcess(standIn, topics);
    await expect
      .poll(() => standIn.hits('/fng/').length >= 3 && standIn.hits('/coindesk').length >= 3, {
        timeout: 20_000,
        interval: 25,
      })
      .toBe(true);
    await stop();
    const history = (
      JSON.parse(referenceSample('altme-fng', 'fanyilun0_CryptoSentinel_fng_history.json')).data as unknown[]
    ).length;
    const sentiment = await readAll(topics.sentiment);
    expect(sentiment).toHaveLength(history + 2);
    expect(sentiment[0]?.headers['tm-schema']).toBe('sentiment.v1');
    const first = JSON.parse(decoder.decode(sentiment[0]?.value)) as SentimentRecord;
    expect(first.time).toBe(Date.parse('2018-02-01'));
    const news = await readAll(topics.news);
    expect(news.map((r) => (JSON.parse(decoder.decode(r.value)) as NewsRecord).guid)).toHaveLength(3);

    // A second process: reads the keys back from Kafka, asks only for the latest values.
    const fngBefore = standIn.hits('/fng/').length;
    const stop2 = await startProcess(standIn, topics);
    await expect
      .poll(() => standIn.hits('/fng/').length >= fngBefore + 2 && standIn.hits('/coindesk').length >= 6, {
        timeout: 20_000,
        interval: 25,
      })
      .toBe(true);
    await stop2();
    expect(new URL(standIn.hits('/fng/')[fngBefore]?.url ?? '', standIn.url).searchParams.get('limit')).toBe('2');
    expect(await readAll(topics.sentiment)).toHaveLength(history + 2);
    expect(await readAll(topics.news)).toHaveLength(3);
  });
});
