import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import Fastify from 'fastify';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startTracing } from '../observe/tracing.js';
import { registerRequestTracing } from './api-tracing.js';

const exporter = new InMemorySpanExporter();
const tracing = startTracing({ serviceName: 'tickmesh-test', exporter, immediate: true });
afterAll(() => tracing.shutdown());

describe('API request spans', () => {
  it('a request is a server span named by its route, continuing the caller, without the query string', async () => {
    const app = Fastify();
    registerRequestTracing(app, tracing.tracer);
    app.get('/api/v1/candles/:market', async () => ({ ok: true }));
    const caller = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await app.inject({
      url: '/api/v1/candles/BTC-USDT?interval=1m&api_key=tm_secret_123',
      headers: { traceparent: caller },
    });
    expect(res.statusCode).toBe(200);
    await app.inject({ url: '/nowhere?api_key=tm_secret_123' });
    await vi.waitUntil(() => exporter.getFinishedSpans().length === 2);
    const [span, missing] = exporter.getFinishedSpans();
    expect(span?.name).toBe('GET /api/v1/candles/:market');
    expect(span?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(span?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/api/v1/candles/:market',
      'url.path': '/api/v1/candles/BTC-USDT',
      'http.response.status_code': 200,
    });
    expect(missing?.attributes['http.response.status_code']).toBe(404);
    expect(JSON.stringify(exporter.getFinishedSpans().map((s) => s.attributes))).not.toContain('tm_secret_123');
    await app.close();
  });
});
