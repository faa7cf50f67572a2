import { AlwaysOffSampler, BasicTracerProvider, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { LogProducer, OutgoingRecord } from '../log/log.js';
import { sampleTrade } from '../log/record-testing.js';
import { startTracing, traceHeaders } from '../observe/tracing.js';
import { createLogWriter } from './log-writer.js';
import { DEFAULT_TOPICS } from './topics.js';

const exporter = new InMemorySpanExporter();
const tracing = startTracing({ serviceName: 'tickmesh-test', exporter, immediate: true });
afterAll(() => tracing.shutdown());

/** A producer that keeps the trace context active at each send, as the Kafka producer puts it in the headers. */
class Sends implements LogProducer {
  readonly calls: Array<{ records: readonly OutgoingRecord[]; trace: Record<string, string> }> = [];
  async send(_topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    this.calls.push({ records, trace: traceHeaders() });
  }
  async close(): Promise<void> {}
}

const trade = (exchange: string, symbol: string, id: number) => ({
  ...sampleTrade,
  exchange,
  symbol,
  tradeId: String(id),
});

describe('ingest append spans', () => {
  it('a send of trades is one span, whose context the producer puts in the records', async () => {
    exporter.reset();
    const producer = new Sends();
    const writer = createLogWriter({ producer, topics: DEFAULT_TOPICS, tracer: tracing.tracer, partitions: 4 });
    for (const t of [trade('binance', 'A', 1), trade('binance', 'A', 2), trade('kraken', 'B', 1)]) writer.trade(t);
    await writer.flush();
    // The SDK's simple processor exports once the resource is read, a moment after the span ends.
    await vi.waitUntil(() => exporter.getFinishedSpans().length > 0);
    const [span] = exporter.getFinishedSpans();
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(span?.name).toBe('ingest.append');
    expect(span?.attributes).toMatchObject({
      'messaging.destination.name': DEFAULT_TOPICS.trades,
      'messaging.batch.message_count': 2,
      'tickmesh.venue': 'binance,kraken',
      'tickmesh.markets': 2,
      'tickmesh.trades': 3,
    });
    const partitions = span?.attributes['tickmesh.partitions'] as number[] | undefined;
    expect(partitions?.every((p) => p >= 0 && p < 4)).toBe(true);
    const { traceId, spanId } = span?.spanContext() ?? {};
    expect(producer.calls[0]?.trace.traceparent).toBe(`00-${traceId}-${spanId}-01`);
  });

  it('without a tracer, or sampled out, the records carry no trace context', async () => {
    exporter.reset();
    const off = new BasicTracerProvider({ sampler: new AlwaysOffSampler() }).getTracer('off');
    for (const tracer of [undefined, off]) {
      const producer = new Sends();
      const writer = createLogWriter({ producer, topics: DEFAULT_TOPICS, ...(tracer ? { tracer } : {}) });
      writer.trade(trade('binance', 'A', 1));
      await writer.flush();
      expect(producer.calls.map((c) => c.trace)).toEqual([{}]);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
