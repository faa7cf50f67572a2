import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorConfig } from '../actor/config.js';
import type { KvBucket } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { loadRealTrades } from '../ingest/testing/real-trades.js';
import { MemoryLog } from '../log/memory-log.js';
import { tradeRecord } from '../log/record.js';
import type { Candle } from '../market/candle.js';
import type { Trade } from '../market/trade.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { PLACEMENT_BUCKET, PLACEMENT_KV_KEY } from '../operator/kv-placement.js';
import { encodeDocument, PLACEMENT_FORMAT, type PlacementDocument } from '../operator/placement-document.js';
import { MemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore, type PgliteStore } from '../sink/pglite-store.js';
import { marketActorFactory } from './market-actors.js';
import { createWorkerMetrics } from './metrics.js';
import { parseWorkerOptions, workerConfig } from './options.js';
import { PlacementFollower } from './placement-follower.js';
import { Worker } from './worker.js';

const TOPIC = 't';
const P = 4;
const MARKETS = 16;
const options = parseWorkerOptions({
  topic: TOPIC,
  'clock-watermark': 'false',
  'checkpoint-interval-ms': '0',
  intervals: '1m,5m',
  'partial-updates': 'false',
});

function doc(
  version: number,
  members: string[],
  owners: Array<[string | null, number, string | null]>,
): PlacementDocument {
  return {
    format: PLACEMENT_FORMAT,
    version,
    epoch: Math.max(...owners.map(([, e]) => e)),
    partitionCount: owners.length,
    members,
    partitions: owners.map(([owner, epoch, previousOwner], partition) => ({ partition, owner, epoch, previousOwner })),
    publishedBy: 'test-operator',
    publishedAt: new Date().toISOString(),
  };
}

interface Member {
  worker: Worker;
  follower: PlacementFollower;
}

async function member(name: string, log: MemoryLog, store: PgliteStore, bus: MemoryBus): Promise<Member> {
  const registry = createRegistry({}, false);
  const worker = new Worker({
    consumer: log.consumer(TOPIC, { maxBatchRecords: 200 }),
    producer: log.producer(),
    store,
    bus,
    cache: new MemoryCache(),
    actors: marketActorFactory(actorConfig({ intervals: ['1m', '5m'], partialUpdates: false })),
    logger: silentLogger(),
    metrics: createWorkerMetrics(registry),
    clock: Date.now,
    config: workerConfig(options),
  });
  await worker.start(AbortSignal.timeout(120_000));
  const follower = new PlacementFollower({
    worker,
    bus,
    self: name,
    logger: silentLogger(),
    registry,
    handoffWaitMs: 5_000,
    clock: Date.now,
  });
  await follower.start(AbortSignal.timeout(120_000));
  return { worker, follower };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function table(store: PgliteStore): Promise<Candle[]> {
  const rows: Candle[] = [];
  for (let m = 0; m < MARKETS; m++) {
    for (const interval of ['1m', '5m'] as const) {
      const symbol = `BTCUSDT${m}`;
      rows.push(...(await store.candles({ exchange: 'binance-futures', symbol, interval, from: 0, limit: 10_000 })));
    }
  }
  return rows;
}

describe('placement follower: handoff between workers', () => {
  let trades: Trade[];
  const stores: PgliteStore[] = [];
  beforeAll(async () => {
    trades = await loadRealTrades();
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  async function setup() {
    const log = new MemoryLog();
    await log.admin().ensureTopic(TOPIC, P);
    // Sixteen markets made of the real trades (by trade id), so that every partition has work.
    const records = trades.map((t) => tradeRecord({ ...t, symbol: `BTCUSDT${Number(t.tradeId) % MARKETS}` }));
    await log.producer().send(TOPIC, records);
    const ends = await log.admin().endOffsets(TOPIC);
    expect([...ends.values()].filter((n) => n === 0n)).toEqual([]);
    const store = await createPgliteStore();
    await store.migrate();
    stores.push(store);
    const bus = new MemoryBus();
    return { log, store, bus, kv: await bus.kv(PLACEMENT_BUCKET) };
  }

  async function publish(kv: KvBucket, d: PlacementDocument): Promise<void> {
    await kv.put(PLACEMENT_KV_KEY, new TextEncoder().encode(encodeDocument(d)));
  }

  async function caughtUp(s: Awaited<ReturnType<typeof setup>>): Promise<boolean> {
    const end = await s.log.admin().endOffsets(TOPIC);
    for (let p = 0; p < P; p++) {
      const c = await s.store.loadCheckpoint(TOPIC, p);
      if ((c?.nextOffset ?? 0n) < (end.get(p) ?? 0n)) return false;
    }
    return true;
  }

  it('moves partitions with a release, takes over a dead worker’s, and writes the same table as one worker', async () => {
    const single = await setup();
    const only = await member('w0', single.log, single.store, single.bus);
    await publish(
      single.kv,
      doc(
        1,
        ['w0'],
        [
          ['w0', 1, null],
          ['w0', 2, null],
          ['w0', 3, null],
          ['w0', 4, null],
        ],
      ),
    );
    await until('single worker caught up', () => caughtUp(single));
    await only.follower.close();
    await only.worker.drain();
    const reference = await table(single.store);
    expect(reference.length).toBeGreaterThan(100);

    const s = await setup();
    const a = await member('a', s.log, s.store, s.bus);
    const b = await member('b', s.log, s.store, s.bus);
    await publish(
      s.kv,
      doc(
        1,
        ['a'],
        [
          ['a', 1, null],
          ['a', 2, null],
          ['a', 3, null],
          ['a', 4, null],
        ],
      ),
    );
    await until('a runs every partition', () => a.worker.partitions().size === P);
    // b joins: partitions 2 and 3 move from a (a live member) to b, with a release.
    await publish(
      s.kv,
      doc(
        2,
        ['a', 'b'],
        [
          ['a', 1, null],
          ['a', 2, null],
          ['b', 5, 'a'],
          ['b', 6, 'a'],
        ],
      ),
    );
    await until('b runs 2 and 3', () => b.worker.partitions().size === 2 && a.worker.partitions().size === 2);
    expect([...a.worker.partitions().keys()].sort()).toEqual([0, 1]);
    expect([...b.worker.partitions()].sort()).toEqual([
      [2, 5],
      [3, 6],
    ]);
    const released = await s.kv.get('release.2');
    expect(JSON.parse(new TextDecoder().decode(released?.value))).toMatchObject({ releasedBy: 'a', forEpoch: 5 });
    // a dies without a word; the operator gives its partitions to b, which takes them at once.
    await a.follower.close();
    await a.worker.close();
    await publish(
      s.kv,
      doc(
        3,
        ['b'],
        [
          ['b', 7, 'a'],
          ['b', 8, 'a'],
          ['b', 5, 'a'],
          ['b', 6, 'a'],
        ],
      ),
    );
    await until('b runs every partition', () => b.worker.partitions().size === P);
    await until('b caught up', () => caughtUp(s));
    await b.follower.close();
    await b.worker.drain();
    expect(await table(s.store)).toEqual(reference);
  }, 180_000);
});
