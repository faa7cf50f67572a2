import { copyFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../internal/bus/bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { tradeRecord } from '../../internal/log/record.js';
import type { Trade } from '../../internal/market/trade.js';
import type { KlineRecord } from '../../internal/verify/kline-record.js';
import type { VerificationEvent } from '../../internal/verify/verification.js';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { freePort } from '../harness/private-servers.js';
import { queryPrometheus } from '../harness/prometheus.js';
import { createVerificationTopics, klineOutgoing, produceRecords } from '../harness/verification-topics.js';
import { spawnWorker, type WorkerProcess } from '../harness/worker-process.js';
import { replayWorkerArgv } from '../harness/worker-tables.js';
import { completeMinutes, EXCHANGE, MINUTE } from '../support/binance-futures-capture.js';

const PARTITIONS = 4;
const WAIT_MS = 15_000;
const RULES = 'deploy/helm/tickmesh/files/alerts.yaml';
/** This file's scrape job on the shared Prometheus: other tests' workers cannot fire or hide its alert. */
const JOB = freshName('tickmesh-verify');

/** A trade two minutes after the capture's minute: it closes that minute and the empty one after it. */
function closing(t: Trade): Trade {
  const at = MINUTE + 150_000;
  return { ...t, tradeId: '999999999', eventTime: at, receiveTime: at, tradeCount: 1 };
}

describe('live verification on real Kafka, PostgreSQL and NATS', () => {
  const topic = freshName('trades');
  const klines = freshName('klines');
  const schema = freshName('verify').replace(/-/g, '_');
  let kafka: Kafka;
  let db: pg.Client;
  let bus: Bus;
  const events: VerificationEvent[] = [];
  const controller = new AbortController();
  let worker: WorkerProcess | undefined;

  const sdFile = join(endpoint('PROMETHEUS_SD_DIR'), `${JOB}.json`);
  const start = (port = 0) =>
    spawnWorker([
      ...replayWorkerArgv(topic, schema, port),
      ...['--klines-topic', klines, '--verify-wait-ms', String(WAIT_MS), '--verify-intervals', '1m'],
      ...['--index-actors', 'false', '--context', 'false'],
    ]);

  const sendKlines = (list: readonly KlineRecord[]) => produceRecords(kafka, klines, klineOutgoing(list));
  const sendTrades = (list: readonly Trade[]) =>
    produceRecords(
      kafka,
      topic,
      list.map((t) => tradeRecord(t)),
    );

  const row = async (symbol: string, openTime: number) => {
    const { rows } = await db.query(
      `SELECT verification, verified_revision, verification_detail FROM "${schema}".candles
        WHERE exchange = $1 AND symbol = $2 AND interval = '1m' AND open_time = to_timestamp($3 / 1000.0)`,
      [EXCHANGE, symbol, openTime],
    );
    return rows[0] as
      | { verification: string | null; verified_revision: number | null; verification_detail: unknown }
      | undefined;
  };

  /** Resolves once the candle's row holds `status` (eventually() waits while the read gives undefined). */
  const reaches = (symbol: string, openTime: number, status: string, ms: number) =>
    eventually(
      `${symbol} ${openTime} ${status}`,
      async () => ((await row(symbol, openTime))?.verification === status ? true : undefined),
      ms,
    );

  beforeAll(async () => {
    kafka = new Kafka({
      clientId: 'verification-test',
      brokers: endpoint('KAFKA_BROKERS').split(','),
      logLevel: logLevel.NOTHING,
    });
    await createVerificationTopics(kafka, topic, klines, PARTITIONS);
    // The rules as the chart ships them, loaded by a reload (alerts.test.ts writes the same file).
    const rulesFile = join(endpoint('PROMETHEUS_RULES_DIR'), 'tickmesh-alerts.yaml');
    await copyFile(RULES, `${rulesFile}.tmp`);
    await rename(`${rulesFile}.tmp`, rulesFile);
    expect((await fetch(new URL('/-/reload', endpoint('PROMETHEUS_URL')), { method: 'POST' })).status).toBe(200);
    db = new pg.Client({ connectionString: endpoint('DATABASE_URL') });
    await db.connect();
    bus = await createNatsBus({ servers: endpoint('NATS_URL'), name: 'verification-test' });
    const sub = bus.subscribe('tickmesh.verification.>', { signal: controller.signal });
    void (async () => {
      for await (const m of sub) {
        const e = JSON.parse(new TextDecoder().decode(m.data)) as VerificationEvent;
        if (e.exchange === EXCHANGE && e.openTime >= MINUTE) events.push(e);
      }
    })();
  }, 120_000);

  afterAll(async () => {
    controller.abort();
    worker?.child.kill('SIGKILL');
    await bus?.close();
    await rm(sdFile, { force: true });
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db?.end();
  });

  it('verifies the covered minutes, names a lost trade, waits out a missing kline, survives a SIGKILL, alerts', async () => {
    const minutes = completeMinutes();
    const by = (symbol: string) => {
      const m = minutes.find((x) => x.symbol === symbol);
      if (m === undefined) throw new Error(`${symbol} has no complete minute`);
      return m;
    };
    const [sushi, keep, ctk] = [by('SUSHIUSDT'), by('KEEPUSDT'), by('CTKUSDT')];
    // SUSHIUSDT's kline is there before its candle; CTKUSDT's and KEEPUSDT's come only after a SIGKILL.
    await sendKlines([sushi.final]);
    // KEEPUSDT loses its first aggTrade on the way in.
    const lostTrades = keep.trades[0]?.tradeCount ?? 1;
    await sendTrades([
      ...sushi.trades,
      closing(sushi.trades.at(-1) as Trade),
      ...keep.trades.slice(1),
      closing(keep.trades.at(-1) as Trade),
      ...ctk.trades,
      closing(ctk.trades.at(-1) as Trade),
    ]);

    worker = start();
    await worker.running;
    // Killed as soon as CTKUSDT's candle is committed, well within the wait for its kline.
    await eventually(
      'CTKUSDT candle committed',
      async () => ((await row('CTKUSDT', MINUTE).catch(() => undefined)) ? true : undefined),
      60_000,
      50,
    );
    worker.child.kill('SIGKILL');
    await worker.exited;
    expect((await row('CTKUSDT', MINUTE))?.verification).not.toBe('verified');
    await sendKlines([ctk.final, keep.final]);

    const port = await freePort();
    await writeFile(`${sdFile}.tmp`, JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels: { job: JOB } }]));
    await rename(`${sdFile}.tmp`, sdFile);
    worker = start(port);
    await worker.running;
    await reaches('CTKUSDT', MINUTE, 'verified', 60_000);
    await reaches('SUSHIUSDT', MINUTE, 'verified', 60_000);
    const k = await row('KEEPUSDT', MINUTE);
    expect(k?.verification).toBe('mismatch');
    expect(k?.verified_revision).toBe(0);
    const detail = k?.verification_detail as { differences: Array<{ field: string; ours: string; theirs: string }> };
    const theirs = keep.final.kline.trades ?? 0;
    expect(detail.differences).toContainEqual({
      field: 'trades',
      ours: String(theirs - lostTrades),
      theirs: String(theirs),
    });
    expect(detail.differences.map((d) => d.field)).toEqual(expect.arrayContaining(['volume', 'quoteVolume', 'trades']));
    // The empty minute after has no kline: unverifiable once the wait is over.
    await reaches('SUSHIUSDT', MINUTE + 60_000, 'unverifiable', WAIT_MS + 60_000);
    // On the stream: each judgement once per candle revision and status.
    await eventually(
      'the judgements on NATS',
      async () => (events.some((e) => e.symbol === 'CTKUSDT' && e.status === 'verified') ? true : undefined),
      30_000,
    );
    const keepEvent = events.find((e) => e.symbol === 'KEEPUSDT' && e.openTime === MINUTE);
    expect(keepEvent?.status).toBe('mismatch');
    expect(keepEvent?.differences).toEqual(detail.differences);
    // The alert the chart ships, on the real Prometheus scraping this worker.
    const firing = await eventually(
      'TickmeshCandleMismatch firing',
      async () => {
        const alerts = await queryPrometheus(
          `ALERTS{alertname="TickmeshCandleMismatch", alertstate="firing", job="${JOB}"}`,
        );
        return alerts.length > 0 ? alerts.map((a) => a.metric) : undefined;
      },
      60_000,
      500,
    );
    expect(firing).toEqual([expect.objectContaining({ exchange: EXCHANGE, interval: '1m', severity: 'warning' })]);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 300_000);
});
