import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../../internal/log/log.js';
import { tradeRecord } from '../../internal/log/record.js';
import { recordsByMarket } from '../../internal/log/trade-batch.js';
import type { Trade } from '../../internal/market/trade.js';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { sharedData } from '../harness/shared-data.js';
import { spawnWorker, type WorkerProcess } from '../harness/worker-process.js';
import {
  candleTable,
  caughtUp,
  createTradeTopics,
  replayWorkerArgv,
  simulatedTrades,
} from '../harness/worker-tables.js';
import { loadRealTrades } from '../support/real-trades.js';

const DATA = (file: string) => sharedData('binance-um-btcusdt-2020-02-22', file);
const PARTITIONS = 4;
const KILLS = 20;

function startWorker(topic: string, schema: string, port: number): WorkerProcess {
  return spawnWorker(replayWorkerArgv(topic, schema, port));
}

function waitCaughtUp(db: pg.Client, schema: string, topic: string, ends: Map<number, bigint>) {
  return eventually(`${schema} to catch up with the topic`, () => caughtUp(db, schema, topic, ends), 480_000, 100);
}

describe('worker against real Kafka, PostgreSQL, NATS and Redis', () => {
  const topic = freshName('trades');
  const reference = freshName('ref').replace(/-/g, '_');
  const crashed = freshName('crash').replace(/-/g, '_');
  let db: pg.Client;
  let ends: Map<number, bigint>;
  let real: Trade[];

  beforeAll(async () => {
    const kafka = new Kafka({
      clientId: 'worker-crash-test',
      brokers: endpoint('KAFKA_BROKERS').split(','),
      logLevel: logLevel.NOTHING,
    });
    await createTradeTopics(kafka, topic, PARTITIONS);
    const admin = kafka.admin();
    await admin.connect();
    real = await loadRealTrades();
    const sim = await simulatedTrades({
      count: 100_000,
      prefix: 'S',
      seed: 42,
      startTime: Date.UTC(2024, 0, 1),
      ratePerSecond: 5,
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // The real trades one per record (trade.v1); the simulated ones as ingest's log writer writes a
    // send of 5,000: each market's trades of the send in one trade-batch.v1 record. A kill can
    // then fall before, inside or after a batch record's processing.
    const chunks: OutgoingRecord[][] = [];
    for (let i = 0; i < real.length; i += 5_000) chunks.push(real.slice(i, i + 5_000).map((t) => tradeRecord(t)));
    for (let i = 0; i < sim.length; i += 5_000) chunks.push(recordsByMarket(sim.slice(i, i + 5_000)));
    for (const records of chunks) {
      await producer.send({
        topic,
        messages: records.map((r) => ({ key: r.key, value: Buffer.from(r.value), headers: { ...r.headers } })),
      });
    }
    // An undecodable record: the worker must reject it to the rejected topic and go on.
    await producer.send({ topic, messages: [{ key: 'binance-futures:BTCUSDT', value: Buffer.from('garbage') }] });
    await producer.disconnect();
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    await admin.disconnect();
    db = new pg.Client({ connectionString: endpoint('DATABASE_URL') });
    await db.connect();

    const w = startWorker(topic, reference, 0);
    await w.running;
    await waitCaughtUp(db, reference, topic, ends);
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  }, 600_000);

  afterAll(async () => {
    await db?.query(`DROP SCHEMA IF EXISTS "${reference}" CASCADE`);
    await db?.query(`DROP SCHEMA IF EXISTS "${crashed}" CASCADE`);
    await db?.end();
  });

  it('matches the exchange klines for the real BTCUSDT minutes', async () => {
    const klines = readFileSync(DATA('klines-1m.csv'), 'utf8').trim().split('\n');
    const { rows } = await db.query(
      `SELECT (extract(epoch from open_time) * 1000)::bigint AS t, open::text, high::text, low::text, close::text,
              volume::text, trades, taker_buy_volume::text
         FROM "${reference}".candles WHERE symbol = 'BTCUSDT' AND interval = '1m'
        AND open_time BETWEEN '2020-02-22T00:01:00Z' AND '2020-02-22T02:04:00Z' ORDER BY open_time`,
    );
    expect(rows).toHaveLength(124);
    const byTime = new Map(rows.map((r) => [String(r.t), r]));
    for (const line of klines) {
      const [t, open, high, low, close, volume, , , count, takerBuy] = line.split(',');
      const r = byTime.get(t as string);
      if (!r) continue;
      expect([r.open, r.high, r.low, r.close, r.volume, r.trades, r.taker_buy_volume].map(Number)).toEqual(
        [open, high, low, close, volume, count, takerBuy].map(Number),
      );
    }
  });

  it(`leaves the candle table identical, row for row, after ${KILLS} SIGKILLs at random points`, async () => {
    const total = [...ends.values()].reduce((a, b) => a + b, 0n);
    let kills = 0;
    let midway = 0;
    while (kills < KILLS) {
      const w = startWorker(topic, crashed, 0);
      await w.running;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 1_500));
      w.child.kill('SIGKILL');
      await w.exited;
      kills++;
      const { rows } = await db.query(
        `SELECT coalesce(sum(next_offset), 0)::text AS done FROM "${crashed}".checkpoints WHERE topic = $1`,
        [topic],
      );
      if (BigInt(rows[0].done) < total) midway++;
    }
    // The kills must land while there is work left, or the test proves nothing.
    expect(midway).toBeGreaterThanOrEqual(5);
    const last = startWorker(topic, crashed, 0);
    await last.running;
    await waitCaughtUp(db, crashed, topic, ends);
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    const expected = await candleTable(db, reference);
    expect(expected.length).toBeGreaterThan(1_000);
    expect(await candleTable(db, crashed)).toEqual(expected);
  }, 900_000);
});
