import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { decodeTrades } from '../log/trade-batch.js';
import type { Trade } from '../market/trade.js';
import { silentLogger } from '../observe/logger.js';
import { decodeGap, decodeReject } from './events.js';
import { createLogWriter } from './log-writer.js';
import { IngestMetrics } from './metrics.js';
import { TradeProcessor } from './processor.js';
import type { ProducedIds } from './resume.js';
import { RecordingProducer } from './testing/recording-producer.js';
import { DEFAULT_TOPICS } from './topics.js';
import type { BackfillRequest } from './venue.js';

function trade(id: number, extra: Partial<Trade> = {}): Trade {
  return {
    exchange: 'binance-futures',
    symbol: 'BTCUSDT',
    market: 'BTC-USDT',
    tradeId: String(id),
    price: '9682.5',
    size: '0.1',
    side: 'buy',
    eventTime: 1582329602111 + id,
    receiveTime: 1582329602500 + id,
    ...extra,
  };
}

function setup(backfill?: (r: BackfillRequest) => Promise<Trade[]>, seed?: ReadonlyMap<string, ProducedIds>) {
  const producer = new RecordingProducer();
  const registry = new Registry();
  const metrics = new IngestMetrics(registry);
  const writer = createLogWriter({ producer, topics: DEFAULT_TOPICS });
  const processor = new TradeProcessor({
    venue: 'binance-futures',
    sequentialIds: true,
    writer,
    metrics,
    logger: silentLogger(),
    ...(backfill ? { backfill } : {}),
    ...(seed ? { seed } : {}),
  });
  const ids = () =>
    producer.get(DEFAULT_TOPICS.trades).flatMap((r) => decodeTrades(r.value, r.headers).map((t) => t.tradeId));
  const gaps = () => producer.get(DEFAULT_TOPICS.gaps).map((r) => decodeGap(r.value, r.headers));
  const rejects = () => producer.get(DEFAULT_TOPICS.rejects).map((r) => decodeReject(r.value, r.headers));
  const metric = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return { producer, processor, writer, ids, gaps, rejects, metric };
}

async function feed(p: TradeProcessor, trades: Trade[]) {
  for (const t of trades) await p.trade(t, () => JSON.stringify(t));
}

describe('trade processor', () => {
  it('produces each trade once across a reconnect overlap', async () => {
    const s = setup();
    await feed(
      s.processor,
      [100, 101, 102, 103, 101, 102, 103, 104].map((i) => trade(i)),
    );
    await s.writer.flush();
    expect(s.ids()).toEqual(['100', '101', '102', '103', '104']);
    expect(s.gaps()).toEqual([]);
    const dup = await s.metric('tickmesh_ingest_duplicates_total');
    expect(dup[0]?.value).toBe(3);
  });

  it('ages each market from its newest trade at scrape time: the freshness gauge', async () => {
    vi.useFakeTimers({ now: 1_800_000_000_000, toFake: ['Date'] });
    try {
      const s = setup();
      expect(await s.metric('tickmesh_ingest_last_trade_age_seconds')).toEqual([]);
      await feed(s.processor, [trade(1)]);
      vi.setSystemTime(1_800_000_000_000 + 42_500);
      expect(await s.metric('tickmesh_ingest_last_trade_age_seconds')).toEqual([
        { value: 42.5, labels: { venue: 'binance-futures', market: 'BTC-USDT' } },
      ]);
      await feed(s.processor, [trade(2)]);
      vi.setSystemTime(1_800_000_000_000 + 43_000);
      expect((await s.metric('tickmesh_ingest_last_trade_age_seconds'))[0]?.value).toBe(0.5);
    } finally {
      vi.useRealTimers();
    }
  });

  it('resumes from the ids already in the log: a restart drops the overlap and finds the gap over its downtime', async () => {
    const seed = new Map([
      ['binance-futures:BTCUSDT', { ids: ['97', '98', '99'], newestEventTime: trade(99).eventTime }],
      // Another venue's market: not this processor's.
      ['coinbase:BTC-USD', { ids: ['5'], newestEventTime: 0 }],
    ]);
    const s = setup(undefined, seed);
    await feed(
      s.processor,
      [98, 99, 103, 104].map((i) => trade(i)),
    );
    await s.writer.flush();
    expect(s.ids()).toEqual(['103', '104']);
    expect(s.gaps()).toMatchObject([{ fromId: '100', toId: '102', missing: 3, backfill: 'disabled' }]);
  });

  it('a venue that resets its ids: the new numbering is produced, recorded as a reset, counted', async () => {
    const s = setup();
    const before = [5_000, 5_001, 5_002].map((i) => trade(i));
    const last = trade(5_002).eventTime;
    // The venue starts over at 1, later than every trade seen; then repeats one of the old ones.
    const after = [1, 2, 3].map((i) => trade(i, { eventTime: last + i, receiveTime: last + i + 100 }));
    await feed(s.processor, [...before, ...after, trade(5_001), after[1] as Trade]);
    await s.writer.flush();
    expect(s.ids()).toEqual(['5000', '5001', '5002', '1', '2', '3']);
    expect(s.gaps()).toMatchObject([{ kind: 'reset', fromId: '5002', toId: '1', missing: 0 }]);
    expect((await s.metric('tickmesh_ingest_id_resets_total'))[0]?.value).toBe(1);
    expect((await s.metric('tickmesh_ingest_duplicates_total'))[0]?.value).toBe(2);
  });

  it('a restart after a reset over the downtime: the seeded maximum does not swallow the new ids', async () => {
    const seed = new Map([
      ['binance-futures:BTCUSDT', { ids: ['5001', '5002'], newestEventTime: trade(5_002).eventTime }],
    ]);
    const s = setup(undefined, seed);
    const last = trade(5_002).eventTime;
    await feed(s.processor, [trade(5_002), ...[7, 8].map((i) => trade(i, { eventTime: last + i }))]);
    await s.writer.flush();
    expect(s.ids()).toEqual(['7', '8']);
    expect(s.gaps()).toMatchObject([{ kind: 'reset', fromId: '5002', toId: '7' }]);
  });

  it('rejects a trade dated past its receive time plus the skew, and one whose id holds a control byte', async () => {
    const s = setup();
    const year = 365 * 86_400_000;
    await feed(s.processor, [
      trade(100),
      trade(101, { eventTime: trade(101).receiveTime + year }),
      trade(102, { tradeId: '102\u0000' }),
      trade(103),
    ]);
    await s.writer.flush();
    expect(s.ids()).toEqual(['100', '103']);
    expect(s.rejects().map((r) => r.reason)).toEqual(['future-time', 'bad-trade-id']);
  });

  it('backfills a gap in order before the trade that revealed it', async () => {
    const asked: BackfillRequest[] = [];
    const s = setup(async (r) => {
      asked.push(r);
      const out: Trade[] = [];
      for (let i = Number(r.toId); i >= Number(r.fromId); i--) out.push(trade(i)); // any order
      return out;
    });
    await feed(
      s.processor,
      [100, 101, 105, 106].map((i) => trade(i)),
    );
    await s.writer.flush();
    expect(asked.map((r) => [r.fromId, r.toId])).toEqual([[102n, 104n]]);
    // The times around the gap, for venues whose REST pages by time (Kraken).
    expect(asked.map((r) => [r.afterTime, r.beforeTime])).toEqual([[trade(101).eventTime, trade(105).eventTime]]);
    expect(s.ids()).toEqual(['100', '101', '102', '103', '104', '105', '106']);
    expect(s.gaps()).toMatchObject([
      { fromId: '102', toId: '104', missing: 3, backfilled: 3, unrecovered: 0, backfill: 'complete' },
    ]);
  });

  it('records a gap it cannot fill, with what is still missing', async () => {
    const s = setup(async () => [trade(103)]);
    await feed(
      s.processor,
      [100, 101, 106].map((i) => trade(i)),
    );
    await s.writer.flush();
    expect(s.ids()).toEqual(['100', '101', '103', '106']);
    expect(s.gaps()).toMatchObject([
      {
        fromId: '102',
        toId: '105',
        missing: 4,
        backfilled: 1,
        unrecovered: 3,
        unrecoveredRanges: [
          ['102', '102'],
          ['104', '105'],
        ],
        backfill: 'partial',
      },
    ]);
    const gapTrades = await s.metric('tickmesh_ingest_gap_trades_total');
    expect(gapTrades.map((v) => [v.labels.outcome, v.value])).toEqual([
      ['backfilled', 1],
      ['unrecovered', 3],
    ]);
  });

  it('records a failed backfill and carries on', async () => {
    const s = setup(async () => {
      throw new Error('REST down');
    });
    await feed(
      s.processor,
      [1, 2, 10, 11].map((i) => trade(i)),
    );
    await s.writer.flush();
    expect(s.ids()).toEqual(['1', '2', '10', '11']);
    expect(s.gaps()).toMatchObject([{ fromId: '3', toId: '9', backfill: 'failed', unrecovered: 7 }]);
  });

  it('records a gap as disabled without a REST URL', async () => {
    const s = setup();
    await feed(
      s.processor,
      [1, 3].map((i) => trade(i)),
    );
    await s.writer.flush();
    expect(s.gaps()).toMatchObject([{ fromId: '2', toId: '2', backfill: 'disabled' }]);
  });

  it('rejects invalid trades by reason and keeps them on the rejects topic', async () => {
    const s = setup();
    await feed(s.processor, [
      trade(1, { price: '0' }),
      trade(2, { size: 'abc' }),
      trade(3),
      trade(4, { tradeId: 'x' }),
    ]);
    await s.writer.flush();
    expect(s.ids()).toEqual(['3']);
    expect(s.rejects().map((r) => r.reason)).toEqual(['bad-price', 'bad-size', 'bad-trade-id']);
    expect(JSON.parse(s.rejects()[0]?.raw ?? '{}').price).toBe('0');
    // Every reason is exported at 0 from the start; the ones counted:
    const rejects = (await s.metric('tickmesh_ingest_rejects_total')).filter((v) => v.value > 0);
    expect(rejects.map((v) => [v.labels.reason, v.value])).toEqual([
      ['bad-price', 1],
      ['bad-size', 1],
      ['bad-trade-id', 1],
    ]);
  });
});

describe('trade processor, venues whose ids tell no gap (recent trades after a reconnect)', () => {
  /** Bybit-like: ids in no order, the venue's recent trades oldest first. */
  function recentSetup(recent: (symbol: string) => Promise<{ trades: Trade[]; full: boolean }>) {
    const producer = new RecordingProducer();
    const writer = createLogWriter({ producer, topics: DEFAULT_TOPICS });
    const processor = new TradeProcessor({
      venue: 'binance-futures',
      sequentialIds: false,
      writer,
      metrics: new IngestMetrics(new Registry()),
      logger: silentLogger(),
      recent: (r) => recent(r.symbol),
    });
    const ids = () =>
      producer.get(DEFAULT_TOPICS.trades).flatMap((r) => decodeTrades(r.value, r.headers).map((t) => t.tradeId));
    const gaps = () => producer.get(DEFAULT_TOPICS.gaps).map((r) => decodeGap(r.value, r.headers));
    return { processor, writer, ids, gaps };
  }
  // Ids that sort in no useful order; times increase, two trades share a millisecond.
  const tape = ['k', 'c', 'x', 'a', 'q', 'm', 'b'].map((id, i) =>
    trade(i, { tradeId: id, eventTime: 1582329602000 + Math.floor(i / 2) }),
  );

  it('puts what the lost connection missed before the first trade after it, in the venue order', async () => {
    const s = recentSetup(async () => ({ trades: tape, full: true }));
    await feed(s.processor, tape.slice(0, 2));
    s.processor.reconnected(['BTCUSDT']);
    await feed(s.processor, tape.slice(5));
    await s.writer.flush();
    expect(s.ids()).toEqual(['k', 'c', 'x', 'a', 'q', 'm', 'b']);
    expect(s.gaps()).toMatchObject([
      {
        fromId: 'x',
        toId: 'q',
        missing: 3,
        backfilled: 3,
        backfill: 'complete',
        window: { fromTime: tape[1]?.eventTime, toTime: tape[5]?.eventTime },
      },
    ]);
  });

  it('records nothing when nothing was missed, and looks only once per reconnect', async () => {
    let calls = 0;
    const s = recentSetup(async () => {
      calls += 1;
      return { trades: tape, full: true };
    });
    await feed(s.processor, tape.slice(0, 3));
    s.processor.reconnected(['BTCUSDT']);
    await feed(s.processor, tape.slice(1));
    await s.writer.flush();
    expect(s.ids()).toEqual(['k', 'c', 'x', 'a', 'q', 'm', 'b']);
    expect([s.gaps(), calls]).toEqual([[], 1]);
  });

  it('records a partial gap when the recent trades do not reach back to the last trade seen', async () => {
    // The venue keeps the last three trades only: 'a' and 'q' were lost for good.
    const s = recentSetup(async () => ({ trades: tape.slice(4), full: true }));
    await feed(s.processor, tape.slice(0, 3));
    s.processor.reconnected(['BTCUSDT']);
    await feed(s.processor, tape.slice(6));
    await s.writer.flush();
    expect(s.ids()).toEqual(['k', 'c', 'x', 'q', 'm', 'b']);
    expect(s.gaps()).toMatchObject([{ fromId: 'q', toId: 'm', backfilled: 2, backfill: 'partial' }]);
  });

  it('records a failed look as a gap and goes on', async () => {
    const s = recentSetup(async () => {
      throw new Error('venue down');
    });
    await feed(s.processor, tape.slice(0, 2));
    s.processor.reconnected(['BTCUSDT']);
    await feed(s.processor, tape.slice(4));
    await s.writer.flush();
    expect(s.ids()).toEqual(['k', 'c', 'q', 'm', 'b']);
    expect(s.gaps()).toMatchObject([{ fromId: '', toId: '', backfilled: 0, backfill: 'failed' }]);
  });
});
