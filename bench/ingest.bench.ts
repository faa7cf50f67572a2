import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { Worker as Thread } from 'node:worker_threads';
import type { Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { createIngestor } from '../internal/ingest/ingestor.js';
import { createLogWriter } from '../internal/ingest/log-writer.js';
import { IngestMetrics } from '../internal/ingest/metrics.js';
import { TradeProcessor } from '../internal/ingest/processor.js';
import { binanceTradeFrame } from '../internal/ingest/testing/local-binance.js';
import type { IngestTopics } from '../internal/ingest/topics.js';
import type { ParseOutput } from '../internal/ingest/venue.js';
import { createBinanceAdapter } from '../internal/ingest/venues/binance.js';
import { createLogProducer } from '../internal/log/create-producer.js';
import { createKafkaAdmin } from '../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../internal/log/kafka-consumer.js';
import type { LogProducer } from '../internal/log/log.js';
import { PRODUCER_CLIENTS, type ProducerClient } from '../internal/log/producer-client.js';
import { decodeTrades } from '../internal/log/trade-batch.js';
import type { Trade } from '../internal/market/trade.js';
import { silentLogger } from '../internal/observe/logger.js';
import { startTracing, traceHeaders } from '../internal/observe/tracing.js';
import { parseExports } from '../test/harness/global-setup.js';
import { loadRealTrades } from '../test/support/real-trades.js';
import type { Bench, BenchResult } from './bench.js';
import type { FeedServerConfig, FeedServerReply } from './ingest-feed-server.js';
import { threadReplies } from './thread-replies.js';

/**
 * Ingest's hot path on one thread, in four stages, from Binance `@trade` frames built from the
 * real BTCUSDT trades (the 9,999 trades repeated with fresh consecutive ids, over 8 symbols so
 * that they spread over the topic's 8 partitions). Frames are built before the clock starts.
 *
 * - parse:   adapter.parse (the trade shape's parser, field checks, market lookup) only.
 * - process: parse + validation + dedupe/gap check + record encoding + batching, into a log that
 *            acknowledges at once (no I/O).
 * - kafka:   the same into the real Kafka through the Kafka producer (idempotent, acks=all,
 *            zstd, a fresh one per run), timed until Kafka acknowledged the last record. Per
 *            CPU-second of this process (compression threads included) and per wall second; the broker runs on the same machine. Afterwards (untimed) the
 *            topic is read back and its trades counted: they must be every trade produced.
 * - feed:    the whole of an ingest process's path: the frames come over a WebSocket from a local
 *            server (bench/ingest-feed-server.ts, in its own thread) into the ingestor that
 *            `tickmesh ingest` runs (Feed with its WebSocket client and the bounded queue, adapter,
 *            processor, writer, metrics) and on into Kafka, until it drained. Per CPU-second of
 *            this process less the server thread's own CPU, and per wall second.
 *
 * KAFKA_BROKERS, or Kafka started through test/infra/up.sh as the test harness does.
 * TICKMESH_BENCH_INGEST_STAGES=feed (a comma-separated list) runs only the stages named. The
 * kafka and feed stages run once per client of TICKMESH_BENCH_INGEST_PRODUCERS (benchClients).
 */
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', 'ADAUSDT', 'DOGEUSDT', 'DOTUSDT'];

function brokers(): string[] {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS.split(',');
  process.stderr.write('ingest bench: KAFKA_BROKERS not set; starting kafka with test/infra/up.sh\n');
  const out = execFileSync('bash', ['test/infra/up.sh'], {
    cwd: resolve(import.meta.dirname, '..'),
    env: { ...process.env, TICKMESH_INFRA_SERVERS: 'kafka' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const b = parseExports(out).KAFKA_BROKERS;
  if (!b) throw new Error('ingest bench: test/infra/up.sh printed no KAFKA_BROKERS');
  return b.split(',');
}

function frames(real: readonly Trade[], n: number): string[] {
  const out: string[] = new Array(n);
  const base = Number(real[0]?.tradeId);
  for (let i = 0; i < n; i++) {
    const symbol = SYMBOLS[i % SYMBOLS.length] as string;
    const k = Math.floor(i / SYMBOLS.length);
    const t = real[k % real.length] as Trade;
    // Decoded from bytes as the WebSocket client hands frames over: a flat string. A template
    // literal's result is a rope that JSON.parse must flatten first (twice the parse time).
    out[i] = Buffer.from(
      binanceTradeFrame({ ...t, symbol, tradeId: String(base + k), eventTime: t.eventTime + k }),
    ).toString();
  }
  return out;
}

/** The trades in `topic` up to `ends` (records of one or several trades), read back with a consumer. */
async function tradesInTopic(brokers: string[], topic: string, ends: ReadonlyMap<number, bigint>): Promise<number> {
  const consumer = await createKafkaConsumer({
    brokers,
    clientId: 'bench-ingest-count',
    logger: silentLogger(),
    topic,
  });
  const left = new Map([...ends].filter(([, end]) => end > 0n));
  let trades = 0;
  try {
    for (const p of left.keys()) await consumer.assign(p, 0n);
    const signal = AbortSignal.timeout(120_000);
    for await (const batch of consumer.batches(signal)) {
      const end = left.get(batch.partition);
      if (end === undefined) continue;
      for (const r of batch.records) if (r.offset < end) trades += decodeTrades(r.value, r.headers).length;
      if ((batch.records.at(-1)?.offset ?? -1n) + 1n >= end) left.delete(batch.partition);
      if (left.size === 0) break;
    }
  } finally {
    await consumer.close();
  }
  return trades;
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(start);
  return (c.user + c.system) / 1000;
}

interface Timed {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly produced: number;
  /** The feed stage's server thread: measured and left out of cpuMs. */
  readonly serverCpuMs?: number;
}

/**
 * The receive time the process stage gives every frame: a day after the tape's first trade, so
 * that no frame's event time (each frame moves its trade's time on by a millisecond per round)
 * lies after it and is refused as future-dated.
 */
const RECEIVED_AT = 1582329602500 + 86_400_000;

async function pipeline(
  input: readonly string[],
  producer: LogProducer,
  topics: IngestTopics,
  tracer?: Tracer,
): Promise<Timed> {
  const adapter = createBinanceAdapter({ market: 'usdm', symbols: SYMBOLS, restUrl: '' });
  const registry = new Registry();
  const writer = createLogWriter({ producer, topics, ...(tracer ? { tracer, partitions: 8 } : {}) });
  const processor = new TradeProcessor({
    venue: adapter.venue,
    sequentialIds: true,
    writer,
    metrics: new IngestMetrics(registry),
    logger: silentLogger(),
  });
  const pending: Trade[] = [];
  const out: ParseOutput = { trade: (t) => pending.push(t), reject: () => {} };
  const wall = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < input.length; i++) {
    const frame = input[i] as string;
    adapter.parse(frame, RECEIVED_AT, out);
    for (const t of pending) {
      const w = processor.trade(t, frame);
      if (w) await w;
    }
    pending.length = 0;
    if (writer.saturated) await writer.ready();
    // A live feed hands frames over between socket reads; let timers and I/O run as they would.
    if ((i & 1023) === 0) await new Promise<void>((r) => setImmediate(r));
  }
  await writer.flush();
  return { wallMs: performance.now() - wall, cpuMs: cpuMs(cpu), produced: processor.stats.produced };
}

/** An exporter that drops what it is given: the SDK's whole cost, without a collector's. */
const discardSpans: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};

/** Trades the ingestor has handed to the log so far (tickmesh_ingest_trades_total). */
async function tradesProduced(registry: Registry): Promise<number> {
  const metric = registry.getSingleMetric('tickmesh_ingest_trades_total');
  if (!metric) return 0;
  let n = 0;
  for (const v of (await metric.get()).values) n += v.value;
  return n;
}

/**
 * The frames sent by a local WebSocket server into the real ingestor (`tickmesh ingest`'s
 * component: Feed, Binance adapter, processor, writer), until it has produced every trade and drained.
 */
async function feedPipeline(input: readonly string[], producer: LogProducer, topics: IngestTopics): Promise<Timed> {
  const server = new Thread(new URL('./ingest-feed-server.ts', import.meta.url), {
    workerData: { kind: 'ingest-bench-feed-server', frames: input } satisfies FeedServerConfig,
  });
  const next = threadReplies<FeedServerReply>(server, 'ingest bench: feed server thread');
  try {
    const { port, cpuMicros: serverStart } = await next('listening');
    const registry = new Registry();
    const ingestor = createIngestor({
      venues: [{ venue: 'binance-futures', symbols: SYMBOLS, wsUrl: `ws://127.0.0.1:${port}`, restUrl: '' }],
      producer,
      logger: silentLogger(),
      registry,
      topics,
      feed: { pingIntervalMs: 0, staleAfterMs: 0 },
    });
    const wall = performance.now();
    const cpu = process.cpuUsage();
    const deadline = Date.now() + 300_000;
    await ingestor.start(AbortSignal.timeout(300_000));
    let stopped = false;
    ingestor.done.then(
      () => {
        stopped = true;
      },
      () => {
        stopped = true;
      },
    );
    while (!stopped && Date.now() < deadline && (await tradesProduced(registry)) < input.length) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await ingestor.drain();
    const wallMs = performance.now() - wall;
    const totalCpuMs = cpuMs(cpu);
    const produced = await tradesProduced(registry);
    if (produced < input.length) {
      throw new Error(`ingest bench: the feed stage produced ${produced} of ${input.length} trades`);
    }
    const { cpuMicros: serverEnd } = await next('sent');
    const serverCpuMs = (serverEnd - serverStart) / 1000;
    return { wallMs, cpuMs: totalCpuMs - serverCpuMs, serverCpuMs, produced };
  } finally {
    server.postMessage('close');
    await server.terminate();
  }
}

const bench: Bench = {
  name: 'ingest',
  description: 'Binance @trade frames parsed, normalized and produced per second on one thread',
  async run({ quick }) {
    const n = quick ? 50_000 : 1_000_000;
    const input = frames(await loadRealTrades(), n);
    const results: BenchResult[] = [];
    const details = { frames: n, symbols: SYMBOLS.length };
    const stages = (process.env.TICKMESH_BENCH_INGEST_STAGES ?? 'parse,process,kafka,feed').split(',');
    const known = ['parse', 'process', 'kafka', 'feed'];
    const unknown = stages.filter((s) => !known.includes(s));
    if (unknown.length > 0)
      throw new Error(`ingest bench: unknown stage ${unknown.join(',')}; known: ${known.join(',')}`);

    if (stages.includes('parse')) {
      const adapter = createBinanceAdapter({ market: 'usdm', symbols: SYMBOLS, restUrl: '' });
      let parsed = 0;
      const count: ParseOutput = { trade: () => parsed++, reject: () => {} };
      for (let i = 0; i < Math.min(n, 50_000); i++) adapter.parse(input[i] as string, 1, count);
      parsed = 0;
      let wall = performance.now();
      for (const f of input) adapter.parse(f, 1, count);
      wall = performance.now() - wall;
      results.push({ name: 'parse', value: Math.round((parsed * 1000) / wall), unit: 'frames/s', details });
    }

    if (stages.includes('process')) {
      // TICKMESH_BENCH_TRACING=1: tracing on, every span sampled and exported to nowhere, and the
      // log takes the trace headers as the Kafka producer does.
      const traced = process.env.TICKMESH_BENCH_TRACING === '1';
      const tracing = traced ? startTracing({ serviceName: 'bench', exporter: discardSpans }) : undefined;
      const nullLog: LogProducer = {
        send: () => {
          if (traced) traceHeaders();
          return Promise.resolve();
        },
        close: () => Promise.resolve(),
      };
      const processed = await pipeline(input, nullLog, { trades: 't', rejects: 'r', gaps: 'g' }, tracing?.tracer);
      await tracing?.shutdown();
      results.push({
        name: traced ? 'process (no I/O), traced' : 'process (no I/O)',
        value: Math.round((processed.produced * 1000) / processed.wallMs),
        unit: 'trades/s',
        details: {
          ...details,
          produced: processed.produced,
          wallMs: Math.round(processed.wallMs),
          cpuMs: Math.round(processed.cpuMs),
        },
      });
    }
    if (!stages.includes('kafka') && !stages.includes('feed')) return results;

    const clients = benchClients();
    const b = brokers();
    const base = `bench-ingest-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const admin = await createKafkaAdmin({ brokers: b, clientId: 'bench-ingest', logger: silentLogger() });
    /** One timed run into fresh topics; every trade it produced must be read back from Kafka. */
    const stage = async (
      name: string,
      client: ProducerClient,
      round: number,
      run: (p: LogProducer, t: IngestTopics) => Promise<Timed>,
    ) => {
      if (!stages.includes(name)) return;
      const prefix = `${base}.${name}.${client}.${round}`;
      const t = { trades: `${prefix}.trades`, rejects: `${prefix}.rejected`, gaps: `${prefix}.gaps` };
      for (const topic of Object.values(t)) await admin.ensureTopic(topic, SYMBOLS.length);
      const producer = await createLogProducer(client, {
        brokers: b,
        clientId: 'bench-ingest',
        logger: silentLogger(),
        registry: new Registry(),
      });
      let k: Timed;
      try {
        k = await run(producer, t);
      } finally {
        await producer.close();
      }
      const ends = await admin.endOffsets(t.trades);
      let records = 0;
      for (const e of ends.values()) records += Number(e);
      const inKafka = await tradesInTopic(b, t.trades, ends);
      if (inKafka !== k.produced) throw new Error(`ingest bench: produced ${k.produced} but Kafka holds ${inKafka}`);
      const kd = {
        ...details,
        producer: client,
        round,
        loadavg: loadavg()[0]?.toFixed(1) ?? '',
        produced: k.produced,
        inKafka,
        records,
        wallMs: Math.round(k.wallMs),
        cpuMs: Math.round(k.cpuMs),
        ...(k.serverCpuMs === undefined ? {} : { 'server thread cpuMs (not counted)': Math.round(k.serverCpuMs) }),
      };
      const value = (ms: number) => Math.round((k.produced * 1000) / ms);
      const label = clients.length > 1 || client !== PRODUCER_CLIENTS[0] ? `${name} (${client}, round ${round})` : name;
      results.push({ name: `${label} per CPU-second`, value: value(k.cpuMs), unit: 'trades/s', details: kd });
      results.push({ name: `${label} per wall second`, value: value(k.wallMs), unit: 'trades/s', details: kd });
    };
    try {
      for (const [i, client] of clients.entries()) {
        await stage('kafka', client, i + 1, (p, t) => pipeline(input, p, t));
        await stage('feed', client, i + 1, (p, t) => feedPipeline(input, p, t));
      }
    } finally {
      await admin.close();
    }
    return results;
  },
};

/**
 * The producers the kafka and feed stages run on, in turn: TICKMESH_BENCH_INGEST_PRODUCERS, a
 * comma-separated list (default: each client twice, alternating, for a side-by-side comparison).
 */
function benchClients(): ProducerClient[] {
  const given = process.env.TICKMESH_BENCH_INGEST_PRODUCERS;
  const list = given ? given.split(',').map((c) => c.trim()) : [...PRODUCER_CLIENTS, ...PRODUCER_CLIENTS];
  const unknown = list.filter((c) => !(PRODUCER_CLIENTS as readonly string[]).includes(c));
  if (unknown.length > 0) {
    throw new Error(`ingest bench: unknown producer ${unknown.join(',')}; known: ${PRODUCER_CLIENTS.join(',')}`);
  }
  return list as ProducerClient[];
}

export default bench;
