import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadRealTrades } from '../../test/support/real-trades.js';
import type { LogProducer, OutgoingRecord } from '../log/log.js';
import { decodeTrades } from '../log/trade-batch.js';
import type { Trade } from '../market/trade.js';
import { silentLogger } from '../observe/logger.js';
import { decodeGap, decodeReject } from './events.js';
import { createIngestor } from './ingestor.js';
import { type LocalBinance, range, startLocalBinance } from './testing/local-binance.js';
import { RecordingProducer } from './testing/recording-producer.js';
import { DEFAULT_TOPICS } from './topics.js';

let trades: Trade[] = [];
const exchanges: LocalBinance[] = [];
beforeAll(async () => {
  trades = (await loadRealTrades()).slice(0, 2_000);
});
afterEach(async () => {
  await Promise.all(exchanges.splice(0).map((e) => e.close()));
});

async function run(exchange: LocalBinance, until: (p: RecordingProducer) => boolean, restUrl?: string) {
  const producer = new RecordingProducer();
  const registry = new Registry();
  const ingestor = createIngestor({
    venues: [
      { venue: 'binance-futures', symbols: ['BTCUSDT'], wsUrl: exchange.wsUrl, restUrl: restUrl ?? exchange.restUrl },
    ],
    producer,
    logger: silentLogger(),
    registry,
    feed: { reconnectInitialDelayMs: 10, reconnectMaxDelayMs: 50, staleAfterMs: 400 },
  });
  const controller = new AbortController();
  await ingestor.start(controller.signal);
  // Not there in time: the caller's assertions say what is missing.
  await vi.waitUntil(() => until(producer), { timeout: 15_000, interval: 20 }).catch(() => {});
  await ingestor.drain();
  const ids = producer
    .get(DEFAULT_TOPICS.trades)
    .flatMap((r) => decodeTrades(r.value, r.headers).map((t) => t.tradeId));
  const gaps = producer.get(DEFAULT_TOPICS.gaps).map((r) => decodeGap(r.value, r.headers));
  const rejects = producer.get(DEFAULT_TOPICS.rejects).map((r) => decodeReject(r.value, r.headers));
  return { ids, gaps, rejects, registry };
}

const all = () => trades.map((t) => t.tradeId);
/** Until `n` trades were produced (a trade-batch record counts its trades). */
const count = (n: number) => (p: RecordingProducer) =>
  p.get(DEFAULT_TOPICS.trades).reduce((k, r) => k + decodeTrades(r.value, r.headers).length, 0) >= n;

describe('ingestor against a local Binance', () => {
  it('produces each trade once, in order, across a dropped connection with overlap', async () => {
    const ex = await startLocalBinance({
      trades,
      script: (n) => (n === 1 ? { send: range(0, 1200), after: 'drop' } : { send: range(1000, 2000), after: 'silent' }),
    });
    exchanges.push(ex);
    const { ids, gaps } = await run(ex, count(2000));
    expect(ids).toEqual(all());
    expect(gaps).toEqual([]);
    expect(ex.connections).toBe(2);
  });

  it('backfills a gap over REST after a reconnect', async () => {
    const ex = await startLocalBinance({
      trades,
      script: (n) => (n === 1 ? { send: range(0, 800), after: 'drop' } : { send: range(950, 2000), after: 'silent' }),
    });
    exchanges.push(ex);
    const { ids, gaps } = await run(ex, count(2000));
    expect(ids).toEqual(all());
    expect(gaps).toMatchObject([{ missing: 150, backfilled: 150, backfill: 'complete' }]);
    expect(ex.restRequests[0]).toBe(
      `/fapi/v1/historicalTrades?symbol=BTCUSDT&fromId=${trades[800]?.tradeId}&limit=150`,
    );
  });

  it('reconnects a stale connection and rejects malformed frames', async () => {
    const ex = await startLocalBinance({
      trades,
      script: (n) =>
        n === 1
          ? {
              send: range(0, 500),
              inject: new Map([
                [10, '{"stream":"btcusdt@trade","data":'],
                [
                  20,
                  '{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":"-5","q":"1","T":1582329602111,"m":true}}',
                ],
              ]),
              after: 'silent',
            }
          : { send: range(500, 2000), after: 'silent' },
    });
    exchanges.push(ex);
    const { ids, rejects, gaps, registry } = await run(ex, count(2000));
    // The garbage took the place of trades 10 and 20: two one-trade gaps, both backfilled.
    expect(ids).toEqual(all());
    expect(gaps.map((g) => [g.fromId, g.backfill])).toEqual([
      [trades[10]?.tradeId, 'complete'],
      [trades[20]?.tradeId, 'complete'],
    ]);
    expect(rejects.map((r) => r.reason)).toEqual(['malformed-frame', 'bad-price']);
    const reconnects = (await registry.getSingleMetric('tickmesh_ingest_reconnects_total')?.get())?.values ?? [];
    expect(reconnects.map((v) => [v.labels.reason, v.value])).toEqual([['stale', 1]]);
    // The time without a feed, from the stale connection's close to the next one's opening.
    const down = (await registry.getSingleMetric('tickmesh_ingest_reconnect_seconds')?.get())?.values ?? [];
    const downCount = (down as Array<{ metricName?: string; value: number }>).find(
      (v) => v.metricName === 'tickmesh_ingest_reconnect_seconds_count',
    );
    expect(downCount?.value).toBe(1);
  });
});

/** A log whose acknowledgements wait until `acknowledge()`. */
class HeldProducer implements LogProducer {
  sent = 0;
  private readonly waiting: Array<() => void> = [];
  async send(_topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    this.sent += records.length;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  acknowledge(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
  async close(): Promise<void> {}
}

describe('ingestor lifecycle', () => {
  const start = async (producer: HeldProducer, signal: AbortSignal) => {
    const ingestor = createIngestor({
      venues: [{ venue: 'sim', symbols: ['BTC-USDT'], rate: 2_000, seed: 1 }],
      producer,
      logger: silentLogger(),
      registry: new Registry(),
    });
    await ingestor.start(signal);
    await vi.waitFor(() => expect(producer.sent).toBeGreaterThan(0));
    return ingestor;
  };

  it('closes when the start signal aborts: it does not wait for the log to acknowledge', async () => {
    const producer = new HeldProducer();
    const controller = new AbortController();
    const ingestor = await start(producer, controller.signal);
    controller.abort();
    await ingestor.done;
    producer.acknowledge();
  });

  it('drains on drain(): it resolves once the log acknowledged what was sent', async () => {
    const producer = new HeldProducer();
    const ingestor = await start(producer, new AbortController().signal);
    let drained = false;
    const draining = ingestor.drain().then(() => {
      drained = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(drained).toBe(false);
    producer.acknowledge();
    await draining;
    expect(drained).toBe(true);
  });
});
