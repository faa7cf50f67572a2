import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogWriter } from '../../internal/ingest/log-writer.js';
import { IngestMetrics } from '../../internal/ingest/metrics.js';
import { captureSource, replay, tradeFileSource } from '../../internal/ingest/replay.js';
import type { IngestTopics } from '../../internal/ingest/topics.js';
import { createKafkaProducer } from '../../internal/log/kafka-producer.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { sharedData } from '../harness/shared-data.js';
import { realTradesFile } from '../support/real-trades.js';
import { brokers, freshTopics, readTrades } from './ingest-support.js';

async function produce(topics: IngestTopics, source: Parameters<typeof replay>[0], speed: number | 'max' = 'max') {
  const registry = new Registry();
  const producer = await createKafkaProducer({
    brokers: brokers(),
    clientId: 'replay-test',
    logger: silentLogger(),
    registry,
  });
  try {
    return await replay(
      source,
      { writer: createLogWriter({ producer, topics }), metrics: new IngestMetrics(registry), logger: silentLogger() },
      { speed, signal: new AbortController().signal },
    );
  } finally {
    await producer.close();
  }
}

describe('replay into Kafka', () => {
  it('puts exactly the 9,999 trades of the real BTCUSDT file into Kafka under one key, in order', async () => {
    const topics = await freshTopics(6);
    const progress = await produce(topics, tradeFileSource({ path: realTradesFile(), format: 'tardis' }));
    expect(progress).toMatchObject({ read: 9999, produced: 9999, duplicates: 0, rejected: 0, gaps: 0, done: true });
    const records = await readTrades(topics.trades);
    expect(records).toHaveLength(9999);
    expect(new Set(records.map((r) => r.key))).toEqual(new Set(['binance-futures:BTCUSDT']));
    expect(new Set(records.map((r) => r.partition)).size).toBe(1);
    // Replay hands the writer thousands of trades of the one market per send: they go in
    // trade-batch records, far fewer records than trades.
    expect(records.every((r) => r.schema === 'trade-batch.v1' || r.schema === 'trade.v1')).toBe(true);
    expect(new Set(records.map((r) => r.offset)).size).toBeLessThan(100);
    const ids = records.map((r) => Number(r.trade.tradeId));
    expect(ids).toEqual(Array.from({ length: 9999 }, (_, i) => 42377944 + i));
    const last = (records.at(-1) as (typeof records)[number]).trade;
    expect(last).toEqual({
      exchange: 'binance-futures',
      symbol: 'BTCUSDT',
      market: 'BTC-USDT',
      tradeId: '42387942',
      price: '9666.84',
      size: '0.07',
      side: 'sell',
      eventTime: 1582337147728,
      receiveTime: 1582337147852,
    });
  });

  it('paces by event time at --speed N', async () => {
    const topics = await freshTopics(1);
    // The file's first 2 s of event time hold these trades; at speed 4 they take about 0.5 s.
    async function* firstTwoSeconds() {
      for await (const batch of tradeFileSource({ path: realTradesFile(), format: 'tardis' })) {
        const keep = batch.filter((i) => i.kind === 'trade' && i.trade.eventTime < 1582329602111 + 2000);
        if (keep.length > 0) yield keep;
        if (keep.length < batch.length) return;
      }
    }
    const started = performance.now();
    const p = await produce(topics, firstTwoSeconds(), 4);
    const elapsed = performance.now() - started;
    expect(p.produced).toBeGreaterThan(5);
    expect(elapsed).toBeGreaterThan(400);
  });

  it('replays a raw Binance WebSocket capture: its 91 aggTrades, nothing else', async () => {
    const topics = await freshTopics(3);
    const path = sharedData('binance-ws-captures', 'cryptofeed_BINANCE_FUTURES.ws.1.0');
    const progress = await produce(topics, captureSource(path));
    expect(progress).toMatchObject({ produced: 91, rejected: 0 });
    const records = await readTrades(topics.trades);
    expect(records).toHaveLength(91);
    // Each aggTrade keeps the count of exchange trades it stands for (last id - first id + 1).
    const expected = new Map<string, number>();
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const frame = line.slice(line.indexOf(': ') + 2);
      if (!frame.includes('"e":"aggTrade"')) continue;
      const d = JSON.parse(frame).data;
      expected.set(`binance-futures:${d.s}:${d.a}`, d.l - d.f + 1);
    }
    expect(expected.size).toBe(91);
    const counts = new Map(records.map(({ key, trade: t }) => [`${key}:${t.tradeId}`, t.tradeCount ?? 1]));
    expect(counts).toEqual(expected);
    expect([...counts.values()].some((n) => n > 1)).toBe(true);
    expect(new Set(records.map((r) => r.key))).toEqual(
      new Set([
        'binance-futures:SUSHIUSDT',
        'binance-futures:AKROUSDT',
        'binance-futures:KEEPUSDT',
        'binance-futures:CTKUSDT',
      ]),
    );
  });
});
