import { Registry } from 'prom-client';
import { expect, vi } from 'vitest';
import { decodeGap, decodeReject } from '../../internal/ingest/events.js';
import { createIngestor, type IngestorDeps, type VenueConfig } from '../../internal/ingest/ingestor.js';
import type { IngestTopics } from '../../internal/ingest/topics.js';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import { createKafkaProducer } from '../../internal/log/kafka-producer.js';
import type { LogRecord } from '../../internal/log/log.js';
import { decodeTrades } from '../../internal/log/trade-batch.js';
import type { Trade } from '../../internal/market/trade.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { endpoint, freshName } from '../harness/env.js';

/** Fresh trades, rejects and gaps topics on the real Kafka. */
export async function freshTopics(partitions = 3): Promise<IngestTopics> {
  const base = freshName('ingest');
  const topics = { trades: `${base}.trades`, rejects: `${base}.rejected`, gaps: `${base}.gaps` };
  const admin = await createKafkaAdmin({ brokers: brokers(), clientId: 'ingest-test-admin', logger: silentLogger() });
  try {
    for (const t of Object.values(topics)) await admin.ensureTopic(t, partitions);
  } finally {
    await admin.close();
  }
  return topics;
}

export function brokers(): string[] {
  return endpoint('KAFKA_BROKERS').split(',');
}

/**
 * Every record of `topic` from the start: as many as the partitions' end offsets say there are
 * (read after the producer was closed, so that count is final), or at least `atLeast`.
 */
export async function readAll(topic: string, atLeast = 0): Promise<LogRecord[]> {
  const admin = await createKafkaAdmin({ brokers: brokers(), clientId: 'ingest-test-read', logger: silentLogger() });
  const ends = await admin.endOffsets(topic);
  await admin.close();
  let count = 0;
  for (const end of ends.values()) count += Number(end);
  count = Math.max(count, atLeast);
  const records: LogRecord[] = [];
  if (count === 0) return records;
  const consumer = await createKafkaConsumer({
    brokers: brokers(),
    clientId: 'ingest-test-read',
    logger: silentLogger(),
    topic,
  });
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(), 60_000);
  try {
    for (const p of ends.keys()) await consumer.assign(p, 0n);
    for await (const batch of consumer.batches(controller.signal)) {
      records.push(...batch.records);
      if (records.length >= count) break;
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(deadline);
    await consumer.close();
  }
  return records;
}

/** A trade as read back from the trades topic, with where its record was. */
export interface LoggedTrade {
  readonly key: string | null;
  readonly partition: number;
  readonly offset: bigint;
  readonly schema: string | undefined;
  readonly trade: Trade;
}

/**
 * Every trade on `topic` in log order (a `trade-batch.v1` record gives its trades in order), read
 * after the producer was closed, so the partitions' end offsets are final.
 */
export async function readTrades(topic: string): Promise<LoggedTrade[]> {
  const out: LoggedTrade[] = [];
  for (const r of await readAll(topic)) {
    for (const trade of decodeTrades(r.value, r.headers)) {
      out.push({ key: r.key, partition: r.partition, offset: r.offset, schema: r.headers['tm-schema'], trade });
    }
  }
  return out;
}

/**
 * Live ingest with the real Kafka producer until it has handed `expectedTrades` trades to the log
 * (or the timeout), then drains: every produced trade is acknowledged by Kafka when this returns.
 */
export async function runIngest(
  deps: Omit<IngestorDeps, 'producer' | 'logger' | 'registry'>,
  expectedTrades: number,
  timeoutMs = 30_000,
): Promise<{ registry: Registry }> {
  const registry = new Registry();
  const producer = await createKafkaProducer({
    brokers: brokers(),
    clientId: 'ingest-test',
    logger: silentLogger(),
    registry,
    lingerMs: 2,
  });
  const ingestor = createIngestor({ ...deps, producer, logger: silentLogger(), registry });
  await ingestor.start(new AbortController().signal);
  const produced = async () =>
    (await metricValues(registry, 'tickmesh_ingest_trades_total')).reduce((a, v) => a + v.value, 0);
  // Fewer in time: the caller's assertions say what is missing.
  const enough = async () => (await produced()) >= expectedTrades;
  await vi.waitUntil(enough, { timeout: timeoutMs, interval: 50 }).catch(() => {});
  // A little longer, so that anything produced beyond the expectation would show up too.
  await new Promise((r) => setTimeout(r, 300));
  await ingestor.drain();
  await producer.close();
  return { registry };
}

export async function metricValues(registry: Registry, name: string) {
  return (await registry.getSingleMetric(name)?.get())?.values ?? [];
}

/**
 * One live-ingest scenario against a local exchange: `venue` into fresh topics until `expected`
 * trades were produced (fast reconnects, `staleAfterMs`, 3 s backfill budget), then everything
 * the topics hold: the trades in log order, the gap events and the rejects.
 */
export async function ingestScenario(venue: VenueConfig, expected: number, staleAfterMs = 5_000) {
  const topics = await freshTopics();
  const { registry } = await runIngest(
    {
      venues: [venue],
      topics,
      feed: { reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 100, staleAfterMs },
      backfillTimeoutMs: 3_000,
    },
    expected,
  );
  const records = await readTrades(topics.trades);
  expect(records.length).toBeGreaterThanOrEqual(expected);
  const gaps = (await readAll(topics.gaps)).map((r) => decodeGap(r.value, r.headers));
  const rejects = (await readAll(topics.rejects)).map((r) => decodeReject(r.value, r.headers));
  return { records, gaps, rejects, registry, topics };
}

/**
 * The records hold one key on one partition, the trade ids `expected` in log order, and each
 * trade's price, size, side, event time and market as `tape` has it.
 */
export function expectTapeInOrder(
  records: readonly LoggedTrade[],
  key: string,
  tape: readonly Trade[],
  expected: readonly string[],
): void {
  expect(new Set(records.map((r) => r.key))).toEqual(new Set([key]));
  expect(new Set(records.map((r) => r.partition)).size).toBe(1);
  const got = records.map((r) => r.trade);
  expect(got.map((t) => t.tradeId)).toEqual(expected);
  const byId = new Map(tape.map((t) => [t.tradeId, t]));
  for (const t of got) {
    const want = byId.get(t.tradeId) as Trade;
    expect([t.price, t.size, t.side, t.eventTime, t.market]).toEqual([
      want.price,
      want.size,
      want.side,
      want.eventTime,
      want.market,
    ]);
  }
}
