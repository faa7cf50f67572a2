import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogProducer } from '../../internal/log/create-producer.js';
import type { OutgoingRecord } from '../../internal/log/log.js';
import { PRODUCER_CLIENTS } from '../../internal/log/producer-client.js';
import { decodeTrade, SCHEMA_HEADER, TRADE_SCHEMA_V1, tradeRecord } from '../../internal/log/record.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { startTracing } from '../../internal/observe/tracing.js';
import { brokers, freshTopics, readAll } from './ingest-support.js';

const tracing = startTracing({
  serviceName: 'ingest-producer-test',
  exporter: new InMemorySpanExporter(),
  immediate: true,
});
afterAll(() => tracing.shutdown());

function records(from: number, n: number, symbol = 'BTCUSDT'): OutgoingRecord[] {
  return Array.from({ length: n }, (_, i) =>
    tradeRecord({
      exchange: 'binance',
      symbol,
      market: 'BTC-USDT',
      tradeId: String(from + i),
      price: '9682.19',
      size: '0.010',
      side: 'buy',
      eventTime: 1582329602111,
      receiveTime: 1582329602418,
    }),
  );
}

describe.each(PRODUCER_CLIENTS)('kafka producer on %s', (client) => {
  it('appends concurrent sends in call order with the schema and trace headers', async () => {
    const topics = await freshTopics(1);
    const producer = await createLogProducer(client, {
      brokers: brokers(),
      clientId: 'producer-test',
      logger: silentLogger(),
      registry: new Registry(),
    });
    const span = tracing.tracer.startSpan('ingest-batch');
    const sends = context.with(trace.setSpan(context.active(), span), () =>
      Array.from({ length: 20 }, (_, k) => producer.send(topics.trades, records(k * 500, 500))),
    );
    await Promise.all(sends);
    span.end();
    await producer.close();
    const got = await readAll(topics.trades, 10_000);
    expect(got.map((r) => Number(decodeTrade(r.value, r.headers).tradeId))).toEqual(
      Array.from({ length: 10_000 }, (_, i) => i),
    );
    expect(got.every((r) => r.headers[SCHEMA_HEADER] === TRADE_SCHEMA_V1)).toBe(true);
    expect(got[0]?.headers.traceparent).toContain(span.spanContext().traceId);
  });

  it('bounds its buffer: send() waits for acknowledgements instead of accepting more', async () => {
    const topics = await freshTopics(2);
    const maxBufferBytes = 64 * 1024;
    const producer = await createLogProducer(client, {
      brokers: brokers(),
      clientId: 'producer-test',
      logger: silentLogger(),
      registry: new Registry(),
      maxBufferBytes,
      maxBatchRecords: 200,
    });
    const perCall = records(0, 100).reduce((a, r) => a + r.value.byteLength + r.key.length + 64 + 16, 0);
    let peak = 0;
    let settledEarly = 0;
    const sends: Promise<void>[] = [];
    const sampler = setInterval(() => {
      peak = Math.max(peak, producer.bufferedBytes);
    }, 1);
    for (let k = 0; k < 100; k++) {
      const p = producer.send(topics.trades, records(k * 100, 100, k % 2 ? 'ETHUSDT' : 'BTCUSDT'));
      sends.push(p);
      peak = Math.max(peak, producer.bufferedBytes);
    }
    // 100 calls of ~perCall bytes cannot all be buffered at once: most are still waiting.
    expect(100 * perCall).toBeGreaterThan(maxBufferBytes * 4);
    expect(producer.bufferedBytes).toBeLessThanOrEqual(maxBufferBytes + perCall);
    for (const p of sends) await p.then(() => settledEarly++);
    clearInterval(sampler);
    expect(settledEarly).toBe(100);
    expect(peak).toBeLessThanOrEqual(maxBufferBytes + perCall);
    await producer.close();
    expect((await readAll(topics.trades, 10_000)).length).toBe(10_000);
  });
});
