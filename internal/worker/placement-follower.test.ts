import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRealTrades } from '../../test/support/real-trades.js';
import { actorConfig } from '../actor/config.js';
import type { Bus, KvBucket } from '../bus/bus.js';
import { createMemoryBus, type MemoryBus } from '../bus/memory-bus.js';
import { parseWorkerOptions } from '../config/worker.js';
import { createMemoryLog, type MemoryLog } from '../log/memory-log.js';
import { tradeRecord } from '../log/record.js';
import type { Candle } from '../market/candle.js';
import type { Trade } from '../market/trade.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { PLACEMENT_BUCKET, PLACEMENT_KV_KEY } from '../operator/kv-placement.js';
import { encodeDocument, PLACEMENT_FORMAT, type PlacementDocument } from '../operator/placement-document.js';
import { createMemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore, type PgliteStore } from '../sink/pglite-store.js';
import type { Store } from '../sink/store.js';
import { marketActorFactory } from './market-actors.js';
import { createWorkerMetrics } from './metrics.js';
import { workerConfig } from './options.js';
import { createPlacementFollower, type PlacementFollower } from './placement-follower.js';
import { createWorker, type Worker } from './worker.js';

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

/** A worker and its follower; `outputs` is the bus its partitions publish on (default `bus`). */
async function member(
  name: string,
  log: MemoryLog,
  store: Store,
  bus: MemoryBus,
  { releaseWaitMs = Number.POSITIVE_INFINITY, outputs = bus }: { releaseWaitMs?: number; outputs?: Bus } = {},
): Promise<Member> {
  const registry = createRegistry({}, false);
  const worker = createWorker({
    consumer: log.consumer(TOPIC, { maxBatchRecords: 200 }),
    producer: log.producer(),
    store,
    bus: outputs,
    cache: createMemoryCache(),
    actors: marketActorFactory(actorConfig({ intervals: ['1m', '5m'], partialUpdates: false })),
    logger: silentLogger(),
    metrics: createWorkerMetrics(registry),
    clock: Date.now,
    config: workerConfig(options),
  });
  await worker.start(AbortSignal.timeout(120_000));
  const follower = createPlacementFollower({
    worker,
    bus,
    self: name,
    logger: silentLogger(),
    registry,
    handoffWaitMs: 5_000,
    releaseWaitMs,
    clock: Date.now,
  });
  await follower.start(AbortSignal.timeout(120_000));
  return { worker, follower };
}

/** `bus` with every KV watch it opens recorded by its key pattern. */
function watchesOf(bus: MemoryBus): { bus: MemoryBus; keys: string[] } {
  const keys: string[] = [];
  const counted = Object.create(bus) as MemoryBus;
  counted.kv = async (name: string) => {
    const bucket = await bus.kv(name);
    return Object.assign(Object.create(bucket) as KvBucket, {
      watch: (o: Parameters<KvBucket['watch']>[0]) => {
        keys.push(o.key ?? '>');
        return bucket.watch(o);
      },
    });
  };
  return { bus: counted, keys };
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
    const log = createMemoryLog();
    await log.admin().ensureTopic(TOPIC, P);
    // Sixteen markets made of the real trades (by trade id), so that every partition has work.
    const records = trades.map((t) => tradeRecord({ ...t, symbol: `BTCUSDT${Number(t.tradeId) % MARKETS}` }));
    await log.producer().send(TOPIC, records);
    const ends = await log.admin().endOffsets(TOPIC);
    expect([...ends.values()].filter((n) => n === 0n)).toEqual([]);
    const store = await createPgliteStore();
    await store.migrate();
    stores.push(store);
    const bus = createMemoryBus();
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

  const allOn = (owner: string) =>
    doc(
      1,
      [owner],
      [
        [owner, 1, null],
        [owner, 2, null],
        [owner, 3, null],
        [owner, 4, null],
      ],
    );

  // b joins: partitions 2 and 3 move from a (a live member) to b, with a release.
  const twoAndThreeToB = doc(
    2,
    ['a', 'b'],
    [
      ['a', 1, null],
      ['a', 2, null],
      ['b', 5, 'a'],
      ['b', 6, 'a'],
    ],
  );

  /** The candle table of one worker running every partition from the start. */
  let reference: Promise<Candle[]> | undefined;
  const referenceTable = () => {
    reference ??= singleWorkerTable();
    return reference;
  };
  async function singleWorkerTable(): Promise<Candle[]> {
    const single = await setup();
    const only = await member('w0', single.log, single.store, single.bus);
    await publish(single.kv, allOn('w0'));
    await expect
      .poll(() => caughtUp(single), { timeout: 60_000, interval: 20, message: 'single worker caught up' })
      .toBe(true);
    await only.follower.close();
    await only.worker.drain();
    const reference = await table(single.store);
    expect(reference.length).toBeGreaterThan(100);
    return reference;
  }

  it('moves partitions with a release, takes over a dead worker’s, and writes the same table as one worker', async () => {
    const reference = await referenceTable();
    const s = await setup();
    const a = await member('a', s.log, s.store, s.bus);
    const watched = watchesOf(s.bus);
    const b = await member('b', s.log, s.store, watched.bus, { outputs: s.bus });
    await publish(s.kv, allOn('a'));
    await expect
      .poll(() => a.worker.partitions().size, { timeout: 60_000, interval: 20, message: 'a runs every partition' })
      .toBe(P);
    await publish(s.kv, twoAndThreeToB);
    await expect
      .poll(() => b.worker.partitions().size === 2 && a.worker.partitions().size === 2, {
        timeout: 60_000,
        interval: 20,
        message: 'b runs 2 and 3',
      })
      .toBe(true);
    expect([...a.worker.partitions().keys()].sort()).toEqual([0, 1]);
    expect([...b.worker.partitions()].sort()).toEqual([
      [2, 5],
      [3, 6],
    ]);
    const released = await s.kv.get('release.2');
    expect(JSON.parse(new TextDecoder().decode(released?.value))).toMatchObject({ releasedBy: 'a', forEpoch: 5 });
    // b heard both releases on the one watch it keeps, not on a watch opened per handoff (whose
    // setup sat on the handoff's critical path).
    expect(watched.keys.sort()).toEqual(['placement', 'release.>']);
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
    await expect
      .poll(() => b.worker.partitions().size, { timeout: 60_000, interval: 20, message: 'b runs every partition' })
      .toBe(P);
    await expect.poll(() => caughtUp(s), { timeout: 60_000, interval: 20, message: 'b caught up' }).toBe(true);
    await b.follower.close();
    await b.worker.drain();
    expect(await table(s.store)).toEqual(reference);
  }, 180_000);

  /** A promise-based gate: `wait()` resolves once `open()` was called. */
  function gate() {
    let open!: () => void;
    const opened = new Promise<void>((r) => {
      open = r;
    });
    return { wait: () => opened, open };
  }

  /**
   * a (announcing releases at once) runs every partition, then 2 and 3 move to b; resolves once b
   * runs them. `stopped` collects how a's partitions stopped.
   */
  async function handOffTwoAndThree(s: Awaited<ReturnType<typeof setup>>, aStore: Store, aOutputs: Bus) {
    const a = await member('a', s.log, aStore, s.bus, { releaseWaitMs: 0, outputs: aOutputs });
    const stopped: Array<[number, string]> = [];
    a.worker.onPartitionStopped = (p, reason) => stopped.push([p, reason]);
    const b = await member('b', s.log, s.store, s.bus);
    await publish(s.kv, allOn('a'));
    await expect
      .poll(() => a.worker.partitions().size, { timeout: 60_000, interval: 20, message: 'a runs every partition' })
      .toBe(P);
    // Time to process a batch or two of each; their first checkpoints are then held up.
    await new Promise((r) => setTimeout(r, 200));
    await publish(s.kv, twoAndThreeToB);
    await expect
      .poll(() => b.worker.partitions().size, { timeout: 60_000, interval: 20, message: 'b runs 2 and 3' })
      .toBe(2);
    return { a, b, stopped };
  }

  /** Both partitions of a stop as released; then both workers finish and the table is the reference. */
  async function expectReleasedAndSameTable(
    s: Awaited<ReturnType<typeof setup>>,
    { a, b, stopped }: Awaited<ReturnType<typeof handOffTwoAndThree>>,
  ) {
    await expect.poll(() => stopped.length, { timeout: 60_000, interval: 20, message: 'a stopped 2 and 3' }).toBe(2);
    expect(stopped.sort()).toEqual([
      [2, 'released'],
      [3, 'released'],
    ]);
    await expect.poll(() => caughtUp(s), { timeout: 60_000, interval: 20, message: 'caught up' }).toBe(true);
    for (const m of [a, b]) {
      await m.follower.close();
      await m.worker.drain();
    }
    expect(await table(s.store)).toEqual(await referenceTable());
  }

  it('announces a release without waiting for a final checkpoint the store holds up; the claim fences it and nothing is lost', async () => {
    const s = await setup();
    // a's commits wait for the gate: its checkpoints are in flight when 2 and 3 move away.
    const held = gate();
    const slow: Store = Object.assign(Object.create(s.store) as Store, {
      commit: async (batch: Parameters<Store['commit']>[0]) => {
        await held.wait();
        return s.store.commit(batch);
      },
    });
    const run = await handOffTwoAndThree(s, slow, s.bus);
    const note = JSON.parse(new TextDecoder().decode((await s.kv.get('release.2'))?.value));
    expect(note).toMatchObject({ releasedBy: 'a', forEpoch: 5, nextOffset: null });
    expect(BigInt(note.processedOffset)).toBeGreaterThan(0n);
    // b claimed 2 before a's commit: a's commit is fenced, and b redoes what a processed.
    expect((await s.store.loadCheckpoint(TOPIC, 2))?.epoch).toBe(5);
    held.open();
    await expectReleasedAndSameTable(s, run);
  }, 180_000);

  it('starts no commit once a release is announced without its final checkpoint: the new owner redoes the rest', async () => {
    const s = await setup();
    // a's durable publishes wait for the gate: its checkpoints cannot settle when 2 and 3 move away.
    const held = gate();
    const slowBus: Bus = Object.assign(Object.create(s.bus) as Bus, {
      publishDurable: async (...args: Parameters<Bus['publishDurable']>) => {
        await held.wait();
        return s.bus.publishDurable(...args);
      },
    });
    const commits: number[] = [];
    const counted: Store = Object.assign(Object.create(s.store) as Store, {
      commit: (batch: Parameters<Store['commit']>[0]) => {
        commits.push(batch.partition);
        return s.store.commit(batch);
      },
    });
    const run = await handOffTwoAndThree(s, counted, slowBus);
    held.open();
    await expectReleasedAndSameTable(s, run);
    // a's checkpoints of 2 and 3 were still settling when it gave up: none reached the store.
    expect(commits.filter((p) => p === 2 || p === 3)).toEqual([]);
  }, 180_000);
});
