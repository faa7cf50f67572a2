import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { actorConfig } from '../actor/config.js';
import { createMemoryBus } from '../bus/memory-bus.js';
import { parseWorkerOptions } from '../config/worker.js';
import { createMemoryLog } from '../log/memory-log.js';
import { tradeRecord } from '../log/record.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { startTracing, traceHeaders } from '../observe/tracing.js';
import { createMemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore } from '../sink/pglite-store.js';
import { marketActorFactory } from './market-actors.js';
import { createWorkerMetrics } from './metrics.js';
import { workerConfig } from './options.js';
import { createWorker } from './worker.js';

const exporter = new InMemorySpanExporter();
const tracing = startTracing({ serviceName: 'tickmesh-test', exporter, immediate: true });
afterAll(() => tracing.shutdown());

describe('worker tracing', () => {
  it('continues the producer trace carried in the record headers through the batch to the checkpoint', async () => {
    const log = createMemoryLog();
    await log.admin().ensureTopic('t', 1);
    const producerSpan = tracing.tracer.startSpan('ingest.produce');
    const headers = context.with(trace.setSpan(context.active(), producerSpan), () => traceHeaders());
    producerSpan.end();
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-/);
    const record = tradeRecord({
      exchange: 'binance',
      symbol: 'BTCUSDT',
      market: 'BTC-USDT',
      tradeId: '1',
      price: '100.5',
      size: '2',
      side: 'buy',
      eventTime: Date.UTC(2024, 0, 1),
      receiveTime: Date.UTC(2024, 0, 1),
    });
    await log.producer().send('t', [{ ...record, headers: { ...record.headers, ...headers } }]);
    const store = await createPgliteStore();
    const options = parseWorkerOptions({ topic: 't', 'clock-watermark': 'false', 'checkpoint-interval-ms': '0' });
    const worker = createWorker({
      consumer: log.consumer('t'),
      producer: log.producer(),
      store,
      bus: createMemoryBus(),
      cache: createMemoryCache(),
      actors: marketActorFactory(actorConfig({ intervals: ['1m'] })),
      logger: silentLogger(),
      metrics: createWorkerMetrics(createRegistry({}, false)),
      clock: Date.now,
      config: workerConfig(options),
    });
    await worker.start(AbortSignal.timeout(60_000));
    await worker.assign(0, 1);
    for (let i = 0; i < 200 && !exporter.getFinishedSpans().some((s) => s.name === 'worker.checkpoint'); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    await worker.drain();
    await store.close();
    const spans = exporter.getFinishedSpans();
    const batch = spans.find((s) => s.name === 'worker.process-batch');
    expect(batch?.spanContext().traceId).toBe(producerSpan.spanContext().traceId);
    expect(spans.some((s) => s.name === 'worker.checkpoint')).toBe(true);
  }, 60_000);
});
