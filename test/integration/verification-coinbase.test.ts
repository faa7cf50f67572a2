import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareDecimal } from '../../internal/actor/decimal.js';
import type { Bus } from '../../internal/bus/bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { createCoinbaseAdapter } from '../../internal/ingest/venues/coinbase.js';
import type { OutgoingRecord } from '../../internal/log/log.js';
import { tradeRecord } from '../../internal/log/record.js';
import type { Trade } from '../../internal/market/trade.js';
import type { StoredCandle } from '../../internal/sink/verification-store.js';
import type { KlineRecord } from '../../internal/verify/kline-record.js';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { createVerificationTopics, klineOutgoing, produceRecords } from '../harness/verification-topics.js';
import { spawnWorker, type WorkerProcess } from '../harness/worker-process.js';
import { replayWorkerArgv } from '../harness/worker-tables.js';
import { klinesOf, readCapture, tradesOf } from '../support/venue-capture.js';

/**
 * Coinbase Advanced through a real `tickmesh worker` and its reconciler host (Kafka, PostgreSQL,
 * NATS): the recorded `market_trades` and `candles` frames of coinbase_advanced_market_trades_candles.jsonl
 * (../shared/data/venue-ws-captures, SOURCE.md), read by the Coinbase adapter as ingest reads them,
 * on the trades and klines topics.
 *
 * The capture holds 24 s of the 5m window 21:05 (its trade snapshot reaches back to 21:04:35, so
 * the window's trades are all there from its start, ids gapless) and 6 pushes of it. Coinbase's
 * pushes carry no final flag and lag the trades by seconds: each equals the aggregation of a
 * trade-id-ordered prefix of the window's trades whose last was received 1.9 to 6.1 s before the
 * push, while later trades were already in. So the candle a push covers is that prefix: the
 * replay gives the worker each product's trades up to its last push's prefix, then a trade past
 * the window's end that closes it. The window's later trades are not sent: the capture holds no
 * push that covers them.
 */
const WINDOW = Date.UTC(2026, 7, 9, 21, 5);
const FIVE_MIN = 300_000;
const PARTITIONS = 4;
const PRODUCTS = ['BTC-USD', 'ETH-USD'];
/** The same trades and pushes under another product id, one trade left out on the way in. */
const LOST = { 'BTC-USD': 'BTCLOST-USD', 'ETH-USD': 'ETHLOST-USD' } as const;

/** A decimal as an integer of 10^-12 units (Coinbase prints at most 8 decimals). */
function units(d: string): bigint {
  const [whole, frac = ''] = d.split('.');
  return BigInt(whole ?? '0') * 10n ** 12n + BigInt(frac.padEnd(12, '0').slice(0, 12));
}
function decimal(u: bigint): string {
  const frac = (u % 10n ** 12n).toString().padStart(12, '0').replace(/0+$/, '');
  return `${u / 10n ** 12n}${frac === '' ? '' : `.${frac}`}`;
}

interface Covered {
  readonly symbol: string;
  readonly push: KlineRecord;
  /** The window's trades the push covers, in trade-id order. */
  readonly trades: Trade[];
  /** Receive time of the last covered trade before the push, ms. */
  readonly lagMs: number;
}

/** Each product's last push of the window and the trade-id prefix of the window's trades whose volume it holds. */
function covered(): Covered[] {
  const events = readCapture(
    'coinbase_advanced_market_trades_candles.jsonl',
    'coinbase',
    createCoinbaseAdapter({ symbols: PRODUCTS, restUrl: '', klineIntervals: ['5m'] }),
  );
  const trades = tradesOf(events);
  return PRODUCTS.map((symbol) => {
    const push = klinesOf(events).findLast((k) => k.symbol === symbol && k.kline.openTime === WINDOW);
    if (push === undefined) throw new Error(`no push of ${symbol} 21:05`);
    const mine = trades
      .filter((t) => t.symbol === symbol && t.eventTime >= WINDOW && t.eventTime < WINDOW + FIVE_MIN)
      .sort((a, b) => Number(BigInt(a.tradeId) - BigInt(b.tradeId)));
    let sum = 0n;
    const target = units(push.kline.volume ?? '0');
    const n = mine.findIndex((t) => {
      sum += units(t.size);
      return sum === target;
    });
    if (n < 0) throw new Error(`no prefix of ${symbol}'s trades holds the push's volume`);
    const prefix = mine.slice(0, n + 1);
    return { symbol, push, trades: prefix, lagMs: push.receivedAt - (prefix.at(-1) as Trade).receiveTime };
  });
}

const renamed = <T extends { symbol: string; market: string }>(x: T, symbol: string): T => ({
  ...x,
  symbol,
  market: symbol,
});

/** A trade of the product 90 s past the window's end: it closes the window. */
function closing(t: Trade): Trade {
  const at = WINDOW + FIVE_MIN + 90_000;
  return { ...t, tradeId: String(BigInt(t.tradeId) + 1_000_000n), eventTime: at, receiveTime: at };
}

/** The trade a lost one is: neither first nor last, nor at the prefix's high or low; the largest such. */
function lostTrade(trades: readonly Trade[]): Trade {
  const prices = trades.map((t) => Number(t.price));
  const [hi, lo] = [Math.max(...prices), Math.min(...prices)];
  const inner = trades.slice(1, -1).filter((t) => Number(t.price) !== hi && Number(t.price) !== lo);
  return inner.reduce((a, b) => (units(b.size) > units(a.size) ? b : a));
}

describe('Coinbase Advanced through the reconciler host of a real worker', () => {
  const topic = freshName('trades');
  const klines = freshName('klines');
  const schema = freshName('verify_cb').replace(/-/g, '_');
  const windows = covered();
  let kafka: Kafka;
  let db: pg.Client;
  let bus: Bus;
  let worker: WorkerProcess | undefined;
  const controller = new AbortController();
  const judged: StoredCandle[] = [];

  const send = (t: string, records: readonly OutgoingRecord[]) => produceRecords(kafka, t, records);

  const row = async (symbol: string) => {
    const { rows } = await db.query(
      `SELECT verification, verification_detail FROM "${schema}".candles
        WHERE exchange = 'coinbase' AND symbol = $1 AND interval = '5m' AND open_time = to_timestamp($2 / 1000.0)`,
      [symbol, WINDOW],
    );
    return rows[0] as
      | { verification: string | null; verification_detail: { differences?: Array<Record<string, string>> } }
      | undefined;
  };

  beforeAll(async () => {
    kafka = new Kafka({
      clientId: 'verification-cb',
      brokers: endpoint('KAFKA_BROKERS').split(','),
      logLevel: logLevel.NOTHING,
    });
    await createVerificationTopics(kafka, topic, klines, PARTITIONS);
    db = new pg.Client({ connectionString: endpoint('DATABASE_URL') });
    await db.connect();
    bus = await createNatsBus({ servers: endpoint('NATS_URL'), name: 'verification-cb-test' });
    const sub = bus.subscribe('tickmesh.candle.closed.5m.coinbase.>', { signal: controller.signal });
    void (async () => {
      for await (const m of sub) {
        const c = JSON.parse(new TextDecoder().decode(m.data)) as StoredCandle;
        if (c.openTime === WINDOW && c.verification) judged.push(c);
      }
    })();
  }, 120_000);

  afterAll(async () => {
    controller.abort();
    worker?.child.kill('SIGKILL');
    await bus?.close();
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db?.end();
  });

  it('finds the 21:05 window covered up to each last push, which lags its last trade by seconds', () => {
    expect(windows.map((w) => [w.symbol, w.trades.length, w.push.kline.volume])).toEqual([
      ['BTC-USD', 88, '1.11745494'],
      ['ETH-USD', 80, '46.258414'],
    ]);
    // The push came 5.7 s (BTC-USD) and 1.9 s (ETH-USD) after the last trade it holds.
    expect(windows.map((w) => Math.round(w.lagMs / 100) / 10)).toEqual([5.7, 1.9]);
  });

  it('verifies the covered candles, and names the volume of a trade lost on the way in, in the row and on NATS', async () => {
    const lost = windows.map((w) => lostTrade(w.trades));
    // Every push of the capture (the snapshot's 200 older candles of each product included), then
    // the same pushes again under the renamed products.
    const pushes = klinesOf(
      readCapture(
        'coinbase_advanced_market_trades_candles.jsonl',
        'coinbase',
        createCoinbaseAdapter({ symbols: PRODUCTS, restUrl: '', klineIntervals: ['5m'] }),
      ),
    );
    const all = [...pushes, ...pushes.map((k) => renamed(k, LOST[k.symbol as keyof typeof LOST]))];
    await send(klines, klineOutgoing(all));
    const trades = windows.flatMap((w, i) => {
      const lostId = lost[i]?.tradeId;
      const copy = w.trades
        .filter((t) => t.tradeId !== lostId)
        .map((t) => renamed(t, LOST[w.symbol as keyof typeof LOST]));
      const last = w.trades.at(-1) as Trade;
      return [...w.trades, closing(last), ...copy, closing(renamed(last, LOST[w.symbol as keyof typeof LOST]))];
    });
    await send(
      topic,
      trades.map((t) => tradeRecord(t)),
    );
    worker = spawnWorker([
      ...replayWorkerArgv(topic, schema, 0),
      ...['--klines-topic', klines, '--verify-wait-ms', '15000', '--verify-intervals', '5m'],
      ...['--index-actors', 'false', '--context', 'false'],
    ]);
    await worker.running;
    for (const w of windows) {
      await eventually(
        `${w.symbol} verified`,
        async () => ((await row(w.symbol))?.verification === 'verified' ? true : undefined),
        60_000,
      );
    }
    for (const [i, w] of windows.entries()) {
      const symbol = LOST[w.symbol as keyof typeof LOST];
      await eventually(
        `${symbol} mismatch`,
        async () => ((await row(symbol))?.verification === 'mismatch' ? true : undefined),
        60_000,
      );
      const differences = (await row(symbol))?.verification_detail.differences ?? [];
      // Only the volume differs: Coinbase publishes no count or quote volume, and the lost trade
      // set neither the open, the close, the high nor the low.
      expect(differences.map((d) => d.field)).toEqual(['volume']);
      expect(differences[0]?.theirs).toBe(w.push.kline.volume);
      const expected = decimal(units(w.push.kline.volume ?? '0') - units(lost[i]?.size ?? '0'));
      expect(compareDecimal(differences[0]?.ours ?? '', expected)).toBe(0);
    }
    // The candles on their NATS subject again, each with its judgement.
    await eventually('the judged candles on NATS', async () => (judged.length >= 4 ? true : undefined), 30_000);
    const status = Object.fromEntries(judged.map((c) => [c.symbol, c.verification?.status]));
    expect(status).toEqual({
      'BTC-USD': 'verified',
      'ETH-USD': 'verified',
      'BTCLOST-USD': 'mismatch',
      'ETHLOST-USD': 'mismatch',
    });
    const btc = judged.find((c) => c.symbol === 'BTC-USD');
    expect([btc?.open, btc?.high, btc?.low, btc?.close, btc?.volume]).toEqual([
      '65091',
      '65091',
      '65083.56',
      '65083.67',
      '1.11745494',
    ]);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 240_000);
});
