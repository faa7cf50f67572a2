import type { Kafka, Producer } from 'kafkajs';
import { simMarket, simulateTrades } from '../../internal/ingest/simulator.js';
import { createTopicsAndWait } from '../../internal/log/kafka-admin.js';
import { tradeRecord } from '../../internal/log/record.js';
import type { Trade } from '../../internal/market/trade.js';
import { loadRealTrades } from '../support/real-trades.js';

/**
 * What the worker tests (crash, outages, end to end) compare: the tables a worker writes, read
 * back in one order so that two runs compare row for row, and the inputs they share.
 */

/**
 * The argv (for `spawn(process.execPath, ...)`) of a `tickmesh worker` that replays `topic` into
 * `schema` with no clock watermark, so that its tables are a function of the log alone: the
 * setting every worker test compares runs in.
 */
export function replayWorkerArgv(topic: string, schema: string, port: number): string[] {
  return [
    ...['--import', 'tsx', 'cmd/tickmesh/main.ts', 'worker'],
    ...['--topic', topic, '--schema', schema, '--intervals', '1m,5m,15m,1h'],
    ...['--clock-watermark', 'false', '--checkpoint-interval-ms', '100', '--max-pending-rows', '2000'],
    ...['--port', String(port), '--late-topic', `${topic}.late`, '--rejected-topic', `${topic}.rejected`],
  ];
}

/** Anything with pg's query(): a Client or a Pool. */
interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** Every candle row of `schema`, one JSON string per row, in key order. */
export async function candleTable(db: Queryable, schema: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT exchange, symbol, interval, open_time, open, high, low, close, volume, quote_volume, trades,
            taker_buy_volume, taker_buy_quote_volume, vwap, first_trade_id, last_trade_id, revision
       FROM "${schema}".candles ORDER BY exchange, symbol, interval, open_time`,
  );
  return rows.map((r) => JSON.stringify(r));
}

/** Every alert row of `schema`, one JSON string per row, by id. */
export async function alertTable(db: Queryable, schema: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT id, exchange, symbol, kind, severity, time, interval, message, evidence FROM "${schema}".alerts ORDER BY id`,
  );
  return rows.map((r) => JSON.stringify(r));
}

/** The committed next offset of each partition of `topic` in `schema`'s checkpoints. */
export async function committedOffsets(db: Queryable, schema: string, topic: string): Promise<Map<number, bigint>> {
  const { rows } = await db.query(`SELECT partition, next_offset FROM "${schema}".checkpoints WHERE topic = $1`, [
    topic,
  ]);
  return new Map(rows.map((r) => [Number(r.partition), BigInt((r.next_offset as string | null) ?? 0)]));
}

/** True when every partition's checkpoint has reached its end offset in `ends`, else undefined (for polling). */
export async function caughtUp(
  db: Queryable,
  schema: string,
  topic: string,
  ends: ReadonlyMap<number, bigint>,
): Promise<true | undefined> {
  const at = await committedOffsets(db, schema, topic);
  return [...ends].every(([p, end]) => (at.get(p) ?? 0n) >= end) ? true : undefined;
}

/** The trades topic with `partitions` partitions and its one-partition late and rejected topics. */
export async function createTradeTopics(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsAndWait(admin, [
      { topic, numPartitions: partitions },
      { topic: `${topic}.late`, numPartitions: 1 },
      { topic: `${topic}.rejected`, numPartitions: 1 },
    ]);
  } finally {
    await admin.disconnect();
  }
}

/**
 * A deterministic simulated set of 40 markets `<prefix><i>-USDT`, in the past (from `startTime`),
 * so that no clock-driven watermark touches it: the worker's output is a function of the log alone.
 */
export async function simulatedTrades(options: {
  readonly count: number;
  readonly prefix: string;
  readonly seed: number;
  readonly startTime: number;
  readonly ratePerSecond: number;
}): Promise<Trade[]> {
  const markets = Array.from({ length: 40 }, (_, i) => simMarket(`${options.prefix}${i}-USDT`));
  const trades: Trade[] = [];
  const ac = new AbortController();
  for await (const t of simulateTrades(
    {
      markets,
      realtime: false,
      seed: options.seed,
      startTime: options.startTime,
      ratePerSecond: options.ratePerSecond,
    },
    ac.signal,
  )) {
    trades.push(t);
    if (trades.length >= options.count) break;
  }
  ac.abort();
  return trades;
}

/** Produces `trades` to `topic` as the ingest path writes them (key, versioned value, headers), 5,000 a request. */
export async function sendTrades(producer: Producer, topic: string, trades: readonly Trade[]): Promise<void> {
  for (let i = 0; i < trades.length; i += 5_000) {
    await producer.send({
      topic,
      messages: trades.slice(i, i + 5_000).map((t) => {
        const r = tradeRecord(t);
        return { key: r.key, value: Buffer.from(r.value), headers: { ...r.headers } };
      }),
    });
  }
}

/**
 * The real BTCUSDT trades and a simulated set of `count` trades (2 per second per market) that
 * continues where the real ones end: in the past, so that no clock-driven watermark could touch
 * it. Starting it years later instead would make every market of the real trades' partition
 * close years of empty candles at once (up to emptyCandleLimit per interval), a burst no live
 * feed produces.
 */
export async function realThenSimulatedTrades(options: {
  readonly count: number;
  readonly prefix: string;
  readonly seed: number;
}): Promise<{ real: Trade[]; sim: Trade[] }> {
  const real = await loadRealTrades();
  const realEnd = Math.max(...real.map((t) => t.eventTime));
  const sim = await simulatedTrades({
    ...options,
    startTime: Math.ceil((realEnd + 1) / 60_000) * 60_000,
    ratePerSecond: 2,
  });
  return { real, sim };
}
