import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalBinance, startLocalBinance } from '../../internal/ingest/testing/local-binance.js';
import type { Trade } from '../../internal/market/trade.js';
import { Proc } from '../e2e/cluster-support.js';
import { endpoint, freshName } from '../harness/env.js';
import { freePort } from '../harness/private-servers.js';
import { createTradeTopics } from '../harness/worker-tables.js';

/**
 * Traces end to end on the real servers and the harness's real Jaeger: `tickmesh ingest` reading
 * a Binance stand-in, `tickmesh worker` and `tickmesh api`, each exporting over OTLP/HTTP. One
 * trace, read back from Jaeger's query API by its id, runs from the ingest send that carried a
 * trade to the publish of the candle that trade closed and the commit of it, across processes.
 */

interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly processID: string;
  readonly references: ReadonlyArray<{ refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }>;
  readonly tags: ReadonlyArray<{ key: string; value: unknown }>;
}

interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<Record<string, { serviceName: string }>>;
}

async function jaeger(path: string, query: Record<string, string> = {}): Promise<JaegerTrace[]> {
  const url = new URL(path, endpoint('JAEGER_QUERY_URL'));
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const res = await fetch(url);
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`jaeger ${url}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { data: JaegerTrace[] | null }).data ?? [];
}

const tag = (s: JaegerSpan, key: string) => s.tags.find((t) => t.key === key)?.value;
const parentOf = (s: JaegerSpan) => s.references.find((r) => r.refType === 'CHILD_OF')?.spanID;

/**
 * In `t`: a candle publish, and the checkpoint under the same batch with its commit (the batch
 * closed the candle; the checkpoint made it durable), or undefined.
 */
function closedAndCommitted(t: JaegerTrace) {
  for (const publish of t.spans.filter((s) => s.operationName === 'worker.publish')) {
    const checkpoint = t.spans.find(
      (s) => s.operationName === 'worker.checkpoint' && parentOf(s) === parentOf(publish),
    );
    const commit =
      checkpoint && t.spans.find((s) => s.operationName === 'worker.commit' && parentOf(s) === checkpoint.spanID);
    if (checkpoint && commit) return { publish, checkpoint, commit };
  }
  return undefined;
}

/** 1s trades of BTCUSDT over `seconds` seconds ending 5 s ago, two a second. */
function tape(seconds: number): Trade[] {
  const start = Math.floor(Date.now() / 1000) * 1000 - (seconds + 5) * 1000;
  return Array.from({ length: seconds * 2 }, (_, i) => ({
    exchange: 'binance-futures',
    symbol: 'BTCUSDT',
    market: 'BTC-USDT',
    tradeId: String(1_000 + i),
    price: (67_000 + i).toFixed(1),
    size: '0.01',
    side: i % 2 === 0 ? 'buy' : 'sell',
    eventTime: start + i * 500,
    receiveTime: start + i * 500,
  }));
}

describe('traces end to end, exported to a real Jaeger', () => {
  const procs: Proc[] = [];
  let exchange: LocalBinance | undefined;
  let topic = '';
  let apiUrl = '';
  const release = Promise.withResolvers<void>();

  beforeAll(async () => {
    const env = {
      ...process.env,
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint('JAEGER_OTLP_ENDPOINT'),
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    topic = freshName('trace-trades');
    const kafka = new Kafka({
      clientId: 'trace-test',
      brokers: endpoint('KAFKA_BROKERS').split(','),
      logLevel: logLevel.NOTHING,
    });
    await createTradeTopics(kafka, topic, 1);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [`${topic}.rejects`, `${topic}.gaps`].map((t) => ({ topic: t, numPartitions: 1 })),
      waitForLeaders: true,
    });
    await admin.disconnect();

    // Twenty seconds of trades in two sends from the venue: the second half closes the first's
    // 1s candles in the worker, whose windows follow event time only (no clock, no lateness).
    const trades = tape(20);
    const half = trades.length / 2;
    exchange = await startLocalBinance({
      trades,
      script: (n) =>
        n === 1
          ? {
              send: trades.map((_, i) => i),
              holds: new Map([[half, release.promise]]),
              after: 'silent',
            }
          : undefined,
    });
    const worker = new Proc(
      'worker',
      [
        'worker',
        ...[
          '--topic',
          topic,
          '--schema',
          freshName('trace_w').replaceAll('-', '_'),
          '--port',
          String(await freePort()),
        ],
        ...['--late-topic', `${topic}.late`, '--rejected-topic', `${topic}.rejected`, '--intervals', '1s'],
        ...['--out-of-orderness-ms', '0', '--idle-grace-ms', '0', '--clock-watermark', 'false'],
        ...['--checkpoint-interval-ms', '100', '--index-actors', 'false'],
      ],
      env,
    );
    procs.push(worker);
    await worker.waitFor('worker running', (l) => l.msg === 'worker running', 90_000);
    const ingest = new Proc(
      'ingest',
      [
        'ingest',
        ...['--venue', 'binance-futures', '--symbols', 'BTCUSDT', '--ws-url', exchange.wsUrl, '--rest-url', ''],
        ...['--stale-after', '0', '--metrics-port', String(await freePort())],
        ...['--trades-topic', topic, '--rejects-topic', `${topic}.rejects`, '--gaps-topic', `${topic}.gaps`],
        '--no-klines',
      ],
      env,
    );
    procs.push(ingest);
    await ingest.waitFor('ingest started', (l) => l.msg === 'ingest started', 90_000);
    const api = new Proc(
      'api',
      [
        'api',
        ...['--port', '0', '--metrics-port', String(await freePort()), '--host', '127.0.0.1'],
        ...['--schema', freshName('trace_a').replaceAll('-', '_'), '--rate-limit-per-minute', '0'],
      ],
      env,
    );
    procs.push(api);
    apiUrl = String((await api.waitFor('api listening', (l) => typeof l.url === 'string', 90_000)).url);
    // The second half once the first is in the log: a send of its own.
    await new Promise((r) => setTimeout(r, 2_000));
    release.resolve();
  }, 240_000);

  afterAll(async () => {
    release.resolve();
    for (const p of procs) p.kill('SIGKILL');
    await exchange?.close();
  });

  it('one trace runs from the ingest send of a trade to the publish and commit of the candle it closed', async () => {
    // Ingest's traces of this test's topic; among them, one whose worker closed and published a candle.
    const tags = JSON.stringify({ 'messaging.destination.name': topic });
    const found = await vi.waitFor(
      async () => {
        const traces = await jaeger('/api/traces', { service: 'tickmesh-ingest', tags, limit: '100', lookback: '1h' });
        for (const t of traces) {
          const full = (await jaeger(`/api/traces/${t.traceID}`))[0];
          if (full && closedAndCommitted(full)) return full;
        }
        throw new Error(`none of ${traces.length} traces from ingest holds a publish and its commit yet`);
      },
      { timeout: 120_000, interval: 1_000 },
    );
    const service = (s: JaegerSpan) => found.processes[s.processID]?.serviceName;
    const byId = (id: string | undefined) => found.spans.find((s) => s.spanID === id);
    const { publish, checkpoint, commit } = closedAndCommitted(found) as NonNullable<
      ReturnType<typeof closedAndCommitted>
    >;
    const batch = byId(parentOf(publish)) as JaegerSpan;
    expect(batch.operationName).toBe('worker.process-batch');
    const append = byId(parentOf(batch)) as JaegerSpan;
    expect(append?.operationName).toBe('ingest.append');
    expect(parentOf(append)).toBeUndefined();
    expect(tag(append, 'tickmesh.venue')).toBe('binance-futures');
    expect(tag(append, 'messaging.destination.partition.id')).toBe('0');
    expect(Number(tag(append, 'tickmesh.trades'))).toBeGreaterThan(0);
    expect(Number(tag(publish, 'tickmesh.candles'))).toBeGreaterThan(0);
    expect(parentOf(checkpoint)).toBe(batch.spanID);
    expect(parentOf(commit)).toBe(checkpoint.spanID);
    expect(tag(commit, 'db.system.name')).toBe('postgresql');
    expect(service(append)).toBe('tickmesh-ingest');
    for (const s of [batch, publish, checkpoint, commit]) expect(service(s)).toBe('tickmesh-worker');
    expect(new Set(found.spans.map((s) => s.traceID))).toEqual(new Set([found.traceID]));
  }, 180_000);

  it("an API request is a server span of tickmesh-api, continuing the caller's trace", async () => {
    const traceId = randomBytes(16).toString('hex');
    const caller = randomBytes(8).toString('hex');
    const key = freshName('tm');
    const res = await fetch(
      `${apiUrl}/api/v1/candles?exchange=binance-futures&symbol=BTCUSDT&interval=1s&api_key=${key}`,
      {
        headers: { traceparent: `00-${traceId}-${caller}-01` },
      },
    );
    expect(res.status).toBeLessThan(500);
    const found = await vi.waitFor(
      async () => {
        const [t] = await jaeger(`/api/traces/${traceId}`);
        if (!t) throw new Error('the request has no trace in Jaeger yet');
        return t;
      },
      { timeout: 60_000, interval: 1_000 },
    );
    const [span] = found.spans;
    expect(found.spans).toHaveLength(1);
    expect(span?.operationName).toBe('GET /api/v1/candles');
    expect(found.processes[span?.processID ?? '']?.serviceName).toBe('tickmesh-api');
    expect(parentOf(span as JaegerSpan)).toBe(caller);
    expect(tag(span as JaegerSpan, 'http.response.status_code')).toBe(res.status);
    expect(tag(span as JaegerSpan, 'url.path')).toBe('/api/v1/candles');
    expect(JSON.stringify(span?.tags)).not.toContain(key);
  }, 90_000);
});
