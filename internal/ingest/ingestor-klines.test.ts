import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeTrades } from '../log/trade-batch.js';
import { silentLogger } from '../observe/logger.js';
import { klinePushParser, type VenueKlinePush } from '../verify/kline-push.js';
import { decodeKlineRecord, KLINES_TOPIC } from '../verify/kline-record.js';
import { decodeReject } from './events.js';
import { createIngestor, type VenueConfig } from './ingestor.js';
import { type LocalCapture, startLocalCapture } from './testing/local-capture.js';
import { RecordingProducer } from './testing/recording-producer.js';
import { DEFAULT_TOPICS } from './topics.js';
import { capturedFrames } from './venues/testing.js';

const stands: LocalCapture[] = [];
afterEach(async () => {
  await Promise.all(stands.splice(0).map((s) => s.close()));
});

const FUTURES = capturedFrames('binance_futures_aggTrade_kline.jsonl').map((f) => f.data);
const SYMBOLS = ['SUSHIUSDT', 'AKROUSDT', 'KEEPUSDT', 'CTKUSDT'];

async function ingest(frames: readonly string[], klines: boolean, expected: number, venueKlines?: boolean) {
  const stand = await startLocalCapture({ frames, wsPath: '/stream' });
  stands.push(stand);
  const producer = new RecordingProducer();
  const registry = new Registry();
  const venue: VenueConfig = {
    venue: 'binance-futures',
    symbols: SYMBOLS,
    stream: 'aggTrade',
    wsUrl: stand.wsUrl,
    ...(venueKlines === undefined ? {} : { klines: venueKlines }),
  };
  const ingestor = createIngestor({
    venues: [venue],
    producer,
    logger: silentLogger(),
    registry,
    ...(klines ? { klineIntervals: ['1m', '5m'] as const } : {}),
  });
  await ingestor.start(new AbortController().signal);
  await vi.waitUntil(() => stand.sent >= frames.length, { timeout: 10_000, interval: 20 });
  const tradeFrames = frames.filter((f) => f.includes('"e":"aggTrade"')).length;
  const settled = () =>
    producer.get(DEFAULT_TOPICS.trades).flatMap((r) => decodeTrades(r.value, r.headers)).length >= tradeFrames &&
    producer.get(KLINES_TOPIC).length + producer.get(DEFAULT_TOPICS.rejects).length >= expected;
  await vi.waitUntil(settled, { timeout: 5_000, interval: 20 }).catch(() => {});
  await ingestor.drain();
  return { producer, registry, subscribed: stand.received.flat() };
}

const metric = async (registry: Registry, name: string) =>
  ((await registry.getSingleMetric(name)?.get())?.values ?? []).map((v) => [v.labels, v.value]);

describe('ingest of a venue kline channel into the klines topic', () => {
  it("appends every push of the recorded Binance USD-M capture as kline.v1, keyed like the market's trades", async () => {
    const { producer, registry, subscribed } = await ingest(FUTURES, true, 67);
    expect(subscribed.flatMap((m) => JSON.parse(m).params)).toContain('ctkusdt@kline_5m');
    const records = producer.get(KLINES_TOPIC);
    expect(records).toHaveLength(67);
    expect(new Set(records.map((r) => r.headers?.['tm-schema']))).toEqual(new Set(['kline.v1']));
    const decoded = records.map((r) => {
      const d = decodeKlineRecord(r.value.toString());
      if (!('record' in d)) throw new Error(d.reject);
      return { key: r.key, record: d.record };
    });
    // Field for field what the capture pushed, in its order.
    const parse = klinePushParser('binance-futures');
    const pushed = FUTURES.flatMap((f) => {
      const r = parse?.(f);
      return r && 'pushes' in r ? r.pushes : [];
    }) as VenueKlinePush[];
    expect(decoded.map(({ record: { receivedAt: _, v: __, exchange: ___, ...push } }) => push)).toEqual(pushed);
    expect(decoded.every(({ record }) => record.exchange === 'binance-futures' && record.receivedAt > 0)).toBe(true);
    // The key is the trades' key of the same market.
    const tradeKeys = new Set(producer.get(DEFAULT_TOPICS.trades).map((r) => r.key));
    expect(new Set(decoded.map((d) => d.key))).toEqual(tradeKeys);
    for (const { key, record } of decoded) expect(key).toBe(`binance-futures:${record.symbol}`);
    const trades = producer.get(DEFAULT_TOPICS.trades).flatMap((r) => decodeTrades(r.value, r.headers));
    expect(trades).toHaveLength(91);
    expect(await metric(registry, 'tickmesh_ingest_klines_received_total')).toEqual([
      [{ venue: 'binance-futures', interval: '1m' }, 67],
    ]);
    expect(await metric(registry, 'tickmesh_ingest_klines_appended_total')).toEqual([
      [{ venue: 'binance-futures', interval: '1m' }, 67],
    ]);
    expect(producer.get(DEFAULT_TOPICS.rejects)).toEqual([]);
  });

  it.each([
    ['for the process', false, undefined],
    ['for the venue ("klines": false)', true, false],
  ])('with klines off %s: no kline subscription, no kline record, the same trades', async (_, on, venueOn) => {
    const { producer, subscribed } = await ingest(FUTURES, on, 0, venueOn);
    expect(subscribed.join()).not.toContain('@kline_');
    expect(producer.get(KLINES_TOPIC)).toEqual([]);
    expect(producer.get(DEFAULT_TOPICS.trades).flatMap((r) => decodeTrades(r.value, r.headers))).toHaveLength(91);
    expect(producer.get(DEFAULT_TOPICS.rejects)).toEqual([]);
  });

  it('a kline push that cannot be read goes to the rejects topic as bad-kline, and the rest goes on', async () => {
    const good = FUTURES.filter((f) => f.includes('"e":"kline"'));
    const bad = (good[0] as string).replace(/"o":"[^"]+"/, '"o":"1e3"');
    const { producer, registry } = await ingest([good[0] as string, bad, good[1] as string], true, 3);
    expect(producer.get(KLINES_TOPIC)).toHaveLength(2);
    const rejects = producer.get(DEFAULT_TOPICS.rejects).map((r) => decodeReject(r.value, r.headers));
    expect(rejects).toMatchObject([
      { venue: 'binance-futures', reason: 'bad-kline', message: 'o is not a plain decimal' },
    ]);
    expect(rejects[0]?.raw).toBe(bad);
    const counted = await metric(registry, 'tickmesh_ingest_rejects_total');
    expect(counted).toContainEqual([{ venue: 'binance-futures', reason: 'bad-kline' }, 1]);
  });

  it('OKX: trades on /ws/v5/public, candles on a second session at /ws/v5/business, both keyed alike', async () => {
    const trades = capturedFrames('okx_v5_trades.jsonl').map((f) => f.data);
    // OKX's documented candle push (no OKX candle was recorded), for the capture's BTC-USDT.
    const candle = (ts: number, close: string, confirm: string) =>
      JSON.stringify({
        arg: { channel: 'candle1m', instId: 'BTC-USDT' },
        data: [[String(ts), '29100.1', '29150', '29090', close, '12.5', '363750', '363750', confirm]],
      });
    const candles = [
      '{"event":"subscribe","arg":{"channel":"candle1m","instId":"BTC-USDT"},"connId":"a4d3ae55"}',
      candle(1652459220000, '29120', '0'),
      candle(1652459220000, '29121.5', '1'),
    ];
    const stand = await startLocalCapture({
      frames: trades,
      wsPath: '/ws/v5/public',
      paths: { '/ws/v5/business': candles },
    });
    stands.push(stand);
    // The capture's coin-margined contracts have no exact size in coins: ingest refuses them.
    const refused = createIngestor({
      venues: [{ venue: 'okx', symbols: ['BTC-USDT', 'UNI-USD-SWAP'], wsUrl: stand.wsUrl, restUrl: '' }],
      producer: new RecordingProducer(),
      logger: silentLogger(),
      registry: new Registry(),
    });
    await expect(refused.start(new AbortController().signal)).rejects.toThrow(
      /okx UNI-USD-SWAP: its contract is worth/,
    );
    await refused.close();
    const producer = new RecordingProducer();
    const ingestor = createIngestor({
      venues: [{ venue: 'okx', symbols: ['BTC-USDT'], wsUrl: stand.wsUrl, restUrl: '' }],
      producer,
      logger: silentLogger(),
      registry: new Registry(),
      klineIntervals: ['1m'],
    });
    await ingestor.start(new AbortController().signal);
    const tradeCount = () =>
      producer.get(DEFAULT_TOPICS.trades).flatMap((r) => decodeTrades(r.value, r.headers)).length;
    await vi
      .waitUntil(() => producer.get(KLINES_TOPIC).length >= 2 && tradeCount() >= 69, { timeout: 10_000, interval: 20 })
      .catch(() => {});
    expect(ingestor.status().map((f) => f.url)).toEqual([stand.wsUrl, stand.wsUrl.replace('/public', '/business')]);
    await ingestor.drain();
    // Each session subscribed only its own channels.
    const subscribed = stand.received.map((log) => log.filter((m) => m !== 'ping').flatMap((m) => JSON.parse(m).args));
    expect(subscribed.map((args) => new Set(args.map((a: { channel: string }) => a.channel)))).toEqual([
      new Set(['trades']),
      new Set(['candle1m']),
    ]);
    const records = producer.get(KLINES_TOPIC).map((r) => ({ key: r.key, d: decodeKlineRecord(r.value.toString()) }));
    expect(records.map((r) => r.key)).toEqual(['okx:BTC-USDT', 'okx:BTC-USDT']);
    expect(records.map((r) => ('record' in r.d ? [r.d.record.final, r.d.record.kline.close] : r.d))).toEqual([
      [false, '29120'],
      [true, '29121.5'],
    ]);
    expect(producer.get(DEFAULT_TOPICS.trades).some((r) => r.key === 'okx:BTC-USDT')).toBe(true);
    // The unsubscribed contracts' 5 trades, each kept as a reject.
    expect(producer.get(DEFAULT_TOPICS.rejects)).toHaveLength(5);
  });
});
