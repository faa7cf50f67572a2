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

function trade(tradeId: string, eventTime: number) {
  return tradeRecord({
    exchange: 'binance',
    symbol: 'BTCUSDT',
    market: 'BTC-USDT',
    tradeId,
    price: '100.5',
    size: '2',
    side: 'buy',
    eventTime,
    receiveTime: eventTime,
  });
}

/** A producer span's context as the record headers carry it. */
function produced(name: string) {
  const span = tracing.tracer.startSpan(name);
  const headers = context.with(trace.setSpan(context.active(), span), () => traceHeaders());
  span.end();
  return { span, headers };
}

describe('worker tracing', () => {
  it('continues the producer traces carried in the record headers through the batch, its publish and the commit', async () => {
    const log = createMemoryLog();
    await log.admin().ensureTopic('t', 1);
    const a = produced('ingest.append a');
    const b = produced('ingest.append b');
    expect(a.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-/);
    const t0 = Date.UTC(2024, 0, 1);
    // One batch of two producer sends: the second trade, ten minutes on, closes the first's 1m candle.
    const first = trade('1', t0);
    const second = trade('2', t0 + 600_000);
    await log.producer().send('t', [
      { ...first, headers: { ...first.headers, ...a.headers } },
      { ...second, headers: { ...second.headers, ...b.headers } },
    ]);
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
      tracer: tracing.tracer,
    });
    await worker.start(AbortSignal.timeout(60_000));
    await worker.assign(0, 1);
    for (let i = 0; i < 200 && !exporter.getFinishedSpans().some((s) => s.name === 'worker.checkpoint'); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    await worker.drain();
    await store.close();
    const spans = exporter.getFinishedSpans();
    const named = (name: string) => {
      const found = spans.find((s) => s.name === name);
      if (!found) throw new Error(`no ${name} span among ${spans.map((s) => s.name).join(', ')}`);
      return found;
    };
    const batch = named('worker.process-batch');
    const traceId = a.span.spanContext().traceId;
    expect(batch.spanContext().traceId).toBe(traceId);
    expect(batch.parentSpanContext?.spanId).toBe(a.span.spanContext().spanId);
    expect(batch.links.map((l) => l.context.spanId)).toEqual([b.span.spanContext().spanId]);
    const publish = named('worker.publish');
    expect(publish.parentSpanContext?.spanId).toBe(batch.spanContext().spanId);
    expect(publish.attributes['tickmesh.candles']).toBeGreaterThanOrEqual(1);
    const checkpoint = named('worker.checkpoint');
    expect(checkpoint.spanContext().traceId).toBe(traceId);
    expect(checkpoint.parentSpanContext?.spanId).toBe(batch.spanContext().spanId);
    const commit = named('worker.commit');
    expect(commit.parentSpanContext?.spanId).toBe(checkpoint.spanContext().spanId);
  }, 60_000);
});
