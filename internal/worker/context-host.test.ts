import { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { headline, reference, sentimentValue } from '../../test/contracts/context-store-contract.js';
import { alert } from '../../test/contracts/store-contract.js';
import { eventually } from '../../test/harness/eventually.js';
import { createMemoryBus, type MemoryBus } from '../bus/memory-bus.js';
import { ALERTS_STREAM, alertSubject } from '../bus/subject-names.js';
import { DEFAULT_CONTEXT_TOPICS, newsRecord, referenceRecord, sentimentRecord } from '../ingest/context/records.js';
import { createMemoryLog, type MemoryLog } from '../log/memory-log.js';
import type { Alert } from '../market/alert.js';
import { silentLogger } from '../observe/logger.js';
import { createMemoryCache, type MemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore, type PgliteStore } from '../sink/pglite-store.js';
import { createContextHost } from './context-host.js';
import { createContextRecorder } from './context-recorder.js';
import { alertPayload } from './outputs.js';

describe('context recorder and context actors in the worker', () => {
  let store: PgliteStore;
  let log: MemoryLog;
  let bus: MemoryBus;
  let cache: MemoryCache;
  const runs: AbortController[] = [];
  // One PGlite for the file (starting one takes seconds), a fresh schema per test.
  let database: PGlite;
  let n = 0;
  beforeAll(async () => {
    database = await PGlite.create();
  }, 120_000);
  afterAll(() => database.close());
  beforeEach(async () => {
    store = await createPgliteStore({ database, schema: `context_${++n}` });
    await store.migrate();
    log = createMemoryLog();
    bus = createMemoryBus();
    await bus.ensureStream(ALERTS_STREAM);
    cache = createMemoryCache();
    for (const topic of Object.values(DEFAULT_CONTEXT_TOPICS)) await log.admin().ensureTopic(topic, 1);
  });
  afterEach(async () => {
    for (const r of runs.splice(0)) r.abort();
    await bus.close();
    await store.close();
  });

  const recorder = async () => {
    const run = new AbortController();
    runs.push(run);
    const r = createContextRecorder({
      topics: DEFAULT_CONTEXT_TOPICS,
      consumer: async (topic) => log.consumer(topic),
      admin: log.admin(),
      store,
      bus,
      cache,
      logger: silentLogger(),
      owns: () => true,
      recheckMs: 20,
    });
    await r.start(run.signal);
    return r;
  };

  it('stores each context record once across a restart and a repeat, and caches the latest reference', async () => {
    const producer = log.producer();
    const a = headline();
    const b = headline({ guid: 'b', title: 'Solana outage', assets: ['SOL'] });
    await producer.send(DEFAULT_CONTEXT_TOPICS.news, [newsRecord(a), newsRecord(b)]);
    await producer.send(DEFAULT_CONTEXT_TOPICS.reference, [referenceRecord(reference())]);
    await producer.send(DEFAULT_CONTEXT_TOPICS.sentiment, [sentimentRecord(sentimentValue())]);
    const first = await recorder();
    await expect
      .poll(async () => (await store.contextOffset(DEFAULT_CONTEXT_TOPICS.news, 0)) === 2n, {
        timeout: 10_000,
        interval: 10,
      })
      .toBe(true);
    await expect
      .poll(async () => (await store.contextOffset(DEFAULT_CONTEXT_TOPICS.sentiment, 0)) === 1n, {
        timeout: 10_000,
        interval: 10,
      })
      .toBe(true);
    await first.close();
    // The same headline appended again (a second ingest), and a record that does not decode.
    await producer.send(DEFAULT_CONTEXT_TOPICS.news, [
      newsRecord(a),
      { key: 'x', value: new TextEncoder().encode('{'), headers: { 'tm-schema': 'news.v1' } },
    ]);
    const second = await recorder();
    await expect
      .poll(async () => (await store.contextOffset(DEFAULT_CONTEXT_TOPICS.news, 0)) === 4n, {
        timeout: 10_000,
        interval: 10,
      })
      .toBe(true);
    await second.close();
    expect(await store.news({})).toEqual([b, a]); // one time: by source, then guid
    expect(await store.sentiment({ index: 'crypto-fear-greed' })).toEqual([sentimentValue()]);
    expect(await cache.latestReferences()).toEqual([reference()]);
  });

  it('joins a spike with a headline of its asset, either order, into one stored and published news spike', async () => {
    const host = createContextHost({ bus, store, logger: silentLogger(), owns: (asset) => asset !== 'ETH' });
    const run = new AbortController();
    runs.push(run);
    await host.start(run.signal);
    await recorder();
    const published: Alert[] = [];
    const sub = bus.subscribe('tickmesh.alert.news_spike.>', { signal: run.signal });
    void (async () => {
      for await (const m of sub) published.push(JSON.parse(new TextDecoder().decode(m.data)) as Alert);
    })();
    const news = headline({ published: Date.UTC(2026, 0, 1, 12, 0) });
    const spike = alert({ id: 'binance:BTCUSDT:price_spike:1m:x', time: Date.UTC(2026, 0, 1, 12, 3) });
    const send = (a: Alert) => bus.publishDurable(alertSubject(a), alertPayload(a), { msgId: a.id });
    // The spike first: no headline yet, held.
    await send(spike);
    await send({ ...spike, id: 'eth', market: 'ETH-USDT', symbol: 'ETHUSDT' });
    await new Promise((r) => setTimeout(r, 50));
    expect(await store.alerts()).toEqual([spike].filter(() => false));
    await log.producer().send(DEFAULT_CONTEXT_TOPICS.news, [newsRecord(news)]);
    const stored = await eventually(
      'the news_spike alert',
      async () => {
        const rows = (await store.alerts()).filter((a) => a.kind === 'news_spike');
        return rows.length > 0 ? rows : undefined;
      },
      10_000,
      10,
    );
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      id: `${spike.id}:news`,
      market: 'BTC-USDT',
      evidence: { headline: news.title, spikeId: spike.id, secondsFromHeadline: 180 },
    });
    // The spike again (a replay of its partition), and a later one with the headline already held.
    await send(spike);
    const later = { ...spike, id: 'binance:BTCUSDT:volume_spike:1m:y', kind: 'volume_spike' as const };
    await send(later);
    await expect
      .poll(async () => (await store.alerts()).filter((a) => a.kind === 'news_spike').length === 2, {
        timeout: 10_000,
        interval: 10,
      })
      .toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect((await store.alerts()).filter((a) => a.kind === 'news_spike').map((a) => a.id)).toEqual([
      `${spike.id}:news`,
      `${later.id}:news`,
    ]);
    expect(published.map((a) => a.id)).toEqual([`${spike.id}:news`, `${later.id}:news`]);
    // ETH is another worker's: nothing here.
    expect(host.view('ETH').headlines).toEqual([]);
    await host.close();
  });

  it('a host that starts after the headline was stored reads it back and still joins', async () => {
    await recorder();
    const news = headline({ published: Date.UTC(2026, 0, 1, 12, 0) });
    await log.producer().send(DEFAULT_CONTEXT_TOPICS.news, [newsRecord(news)]);
    await expect.poll(async () => (await store.news({})).length === 1, { timeout: 10_000, interval: 10 }).toBe(true);
    const host = createContextHost({ bus, store, logger: silentLogger(), owns: () => true });
    const run = new AbortController();
    runs.push(run);
    await host.start(run.signal);
    const spike = alert({ time: Date.UTC(2026, 0, 1, 12, 20) });
    await bus.publishDurable(alertSubject(spike), alertPayload(spike), { msgId: spike.id });
    await expect.poll(async () => (await store.alerts()).length === 1, { timeout: 10_000, interval: 10 }).toBe(true);
    expect((await store.alerts())[0]?.evidence.secondsFromHeadline).toBe(1_200);
    await host.close();
  });
});
