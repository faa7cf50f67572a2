import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actorConfig } from '../actor/config.js';
import type { ActorOutput } from '../actor/output.js';
import { createMemoryBus } from '../bus/memory-bus.js';
import { ALERTS_STREAM, CANDLES_STREAM } from '../bus/subject-names.js';
import type { LogRecord } from '../log/log.js';
import { createMemoryLog } from '../log/memory-log.js';
import { tradeRecord } from '../log/record.js';
import type { Trade } from '../market/trade.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { createMemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore } from '../sink/pglite-store.js';
import type { Store } from '../sink/store.js';
import { marketActorFactory } from './market-actors.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { PartitionOutputs, type RejectedRecord } from './outputs.js';
import { PartitionRunner } from './partition-runner.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

/**
 * Three markets in one partition: A trades for an hour, the whole partition is silent for three
 * hours (a watermark jump longer than the actors' safe step), then A trades again; B trades for
 * 20 minutes and comes back after four and a half hours; C trades for 5 minutes and never again.
 */
function trades(): Trade[] {
  let seed = 7;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const out: Trade[] = [];
  const market = (symbol: string, spans: Array<[number, number]>, everyMs: number) => {
    let id = 1;
    for (const [from, to] of spans) {
      for (let t = T0 + from * MIN; t < T0 + to * MIN; t += everyMs) {
        out.push({
          exchange: 'sim',
          symbol,
          market: `${symbol}-USDT`,
          tradeId: String(id++),
          price: (100 + rand() * 10).toFixed(2),
          size: (0.1 + rand()).toFixed(3),
          side: rand() < 0.5 ? 'buy' : 'sell',
          eventTime: t + Math.floor(rand() * 1_000),
          receiveTime: t,
        });
      }
    }
  };
  market(
    'A',
    [
      [0, 60],
      [240, 300],
    ],
    15_000,
  );
  market(
    'B',
    [
      [0, 20],
      [270, 290],
    ],
    20_000,
  );
  market('C', [[0, 5]], 30_000);
  return out.sort((x, y) => x.eventTime - y.eventTime);
}

/** Every durable output the runner emits, as sortable JSON lines. */
class Recording extends PartitionOutputs {
  readonly lines: string[] = [];
  override emit(
    out: ActorOutput,
    rejected: readonly RejectedRecord[],
    oldest: { append: number; event: number } | undefined,
  ): void {
    for (const c of out.closed) this.lines.push(`closed ${JSON.stringify(c)}`);
    for (const c of out.revised) this.lines.push(`revised ${JSON.stringify(c)}`);
    for (const a of out.alerts) this.lines.push(`alert ${JSON.stringify(a)}`);
    for (const l of out.late) this.lines.push(`late ${l.trade.symbol}:${l.trade.tradeId}@${l.watermark}`);
    for (const r of out.rejected) this.lines.push(`rejected ${r.trade.symbol}:${r.trade.tradeId}`);
    for (const r of rejected) this.lines.push(`rejected-record ${r.offset}`);
    super.emit(out, rejected, oldest);
  }
}

/** How a run is driven: none of it may change what the run commits. */
interface Driving {
  /** Records per fetched batch. */
  readonly batch: number;
  /** A new runner, restored from the checkpoint, from each of these offsets on. */
  readonly cuts: readonly number[];
  /** Await each batch's processing before the next (an empty mailbox) or not (a backlog: partials held). */
  readonly backlog: boolean;
  /** Wall-clock ms the runner's clock moves per reading (it rate-limits partials and times checkpoints). */
  readonly clockStep: number;
  /** A tick after every this many batches (0: none). */
  readonly tickEvery: number;
  readonly checkpointIntervalMs: number;
}

/** How the partition sweeps its actors. */
interface Sweeping {
  /** The reference sweep: every actor on every sweep. */
  readonly everyActor?: boolean;
  /**
   * Live: ticks sweep from the clock, which reads this far ahead of the newest event time the
   * runner has processed (a function of the record order alone, so two runs read the same clock).
   */
  readonly live?: number;
  /** At each cut the runner dies without its final checkpoint (its successor replays from the last one). */
  readonly crash?: boolean;
}

const PLAIN: Driving = { batch: 40, cuts: [], backlog: true, clockStep: 0, tickEvery: 0, checkpointIntervalMs: 0 };

/** Actors with a short empty-candle cut (50 windows), so that a silence of the partition is a jump. */
const ACTORS = {
  intervals: ['1m', '5m'] as const,
  allowedLatenessMs: 30_000,
  emptyCandleLimit: 50,
};

async function openRunner(
  store: Store,
  metrics: WorkerMetrics,
  evictIdleMs: number | undefined,
  driving: Driving,
  clock: () => number,
  partialUpdates: boolean,
  sweep: Sweeping = {},
) {
  const bus = createMemoryBus();
  await bus.ensureStream(CANDLES_STREAM);
  await bus.ensureStream(ALERTS_STREAM);
  const log = createMemoryLog();
  await log.admin().ensureTopic('late', 1);
  await log.admin().ensureTopic('rejected', 1);
  const outputs = new Recording({
    bus,
    cache: createMemoryCache(),
    producer: log.producer(),
    topics: { late: 'late', rejected: 'rejected' },
    logger: silentLogger(),
    metrics,
    clock,
    liveCacheIntervalMs: 0,
  });
  const actors = marketActorFactory(
    actorConfig({ ...ACTORS, intervals: [...ACTORS.intervals], partialUpdates, partialMinIntervalMs: 250 }),
  );
  const runner = await PartitionRunner.open({
    topic: 't',
    partition: 0,
    epoch: 1,
    actors,
    store,
    outputs,
    logger: silentLogger(),
    metrics,
    clock,
    flow: { pause() {}, resume() {} },
    config: {
      checkpointIntervalMs: driving.checkpointIntervalMs,
      maxPendingRows: 1_000,
      mailboxCapacity: 8,
      pauseAt: 8,
      resumeAt: 0,
      outOfOrdernessMs: 2_000,
      idleGraceMs: 1_000,
      clockWatermark: sweep.live !== undefined,
      liveWindowMs: sweep.live === undefined ? 1 : 10 * MIN,
      sweepEveryActor: sweep.everyActor ?? false,
      ...(evictIdleMs === undefined ? {} : { evictIdleMs }),
    },
  });
  return { runner, outputs };
}

function records(all: readonly Trade[]): LogRecord[] {
  return all.map((t, i) => {
    const r = tradeRecord(t);
    return { partition: 0, offset: BigInt(i), key: r.key, value: r.value, headers: r.headers ?? {}, timestamp: 0 };
  });
}

/**
 * Runs the records through runners of one store, a new runner (restored from the checkpoint) at
 * each cut, as `driving` says; `onBatch` sees the runner's metrics after each batch.
 */
async function run(
  all: readonly Trade[],
  evictIdleMs: number | undefined,
  driving: Driving = PLAIN,
  options: {
    partialUpdates?: boolean;
    symbols?: readonly string[];
    onBatch?: (m: WorkerMetrics) => Promise<void>;
    sweep?: Sweeping;
  } = {},
) {
  const metrics = createWorkerMetrics(createRegistry({}, false));
  const store = await createPgliteStore();
  await store.migrate();
  const recs = records(all);
  let wall = Date.UTC(2030, 0, 1);
  let current: PartitionRunner | undefined;
  const lead = options.sweep?.live;
  const clock =
    lead !== undefined
      ? () => (all[Math.max(0, Number(current?.offset ?? 0n) - 1)] as Trade).eventTime + lead
      : driving.clockStep === 0
        ? Date.now
        : () => (wall += driving.clockStep);
  const lines: string[] = [];
  let from = 0;
  const cuts = [...driving.cuts, recs.length];
  for (const end of cuts) {
    const { runner, outputs } = await openRunner(
      store,
      metrics,
      evictIdleMs,
      driving,
      clock,
      options.partialUpdates ?? false,
      options.sweep,
    );
    current = runner;
    const signal = AbortSignal.timeout(120_000);
    const done = runner.run(signal);
    let n = 0;
    for (let i = Number(runner.offset); i < end; i += driving.batch) {
      const batch = recs.slice(i, Math.min(i + driving.batch, end));
      await runner.enqueue({ topic: 't', partition: 0, records: batch, highWatermark: BigInt(end) }, signal);
      if (driving.tickEvery > 0 && ++n % driving.tickEvery === 0) runner.tick();
      if (!driving.backlog) while (runner.offset < batch[batch.length - 1]!.offset + 1n) await setImmediatePromise();
      if (options.onBatch) await options.onBatch(metrics);
    }
    if (options.sweep?.crash && end !== recs.length) {
      // Dies: what it processed since its last checkpoint is processed again by the next runner.
      runner.abandon();
      runner.stop({ discardQueued: true });
    } else runner.stop();
    await done;
    lines.push(...outputs.lines);
    from = end;
  }
  expect(from).toBe(recs.length);
  const checkpoints = (await metrics.checkpointBytes.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value;
  const candles = [];
  for (const symbol of options.symbols ?? ['A', 'B', 'C'])
    for (const interval of ACTORS.intervals)
      candles.push(...(await store.candles({ exchange: 'sim', symbol, interval, from: 0, limit: 100_000 })));
  const alerts = await store.alerts({ limit: 100_000 });
  const checkpoint = await store.loadCheckpoint('t', 0);
  // The checkpoint's bytes: the partition state and the actors' rows.
  let state = checkpoint?.state.length ?? 0;
  for (const bytes of (await store.actorStates('t', 0)).values()) state += bytes.length;
  const parked = await store.parkedActors('t', 0);
  const evictions = Object.fromEntries((await metrics.evictions.get()).values.map((v) => [v.labels.event, v.value]));
  await store.close();
  return { lines: lines.sort(), candles, alerts, state, parked, evictions, checkpoints };
}

describe('idle market eviction', () => {
  it('an evicted market comes back with exactly the outputs it would have had, across a jump and a restart', async () => {
    const all = trades();
    const kept = await run(all, undefined);
    const evicted = await run(all, 10 * MIN);
    // Markets did leave: B and C parked, B came back; C is parked at the end.
    expect(evicted.evictions.parked).toBeGreaterThanOrEqual(2);
    expect(evicted.evictions.returned).toBeGreaterThanOrEqual(1);
    expect(evicted.parked.map((p) => p.key)).toContain('sim:C');
    expect(evicted.state).toBeLessThan(kept.state);
    // A market that never returns has no empty candles after it left; every other output is equal.
    const afterC = (line: string) => line.includes('"symbol":"C"');
    const keptC = kept.candles.filter((c) => c.symbol === 'C');
    const evictedC = evicted.candles.filter((c) => c.symbol === 'C');
    expect(evictedC.length).toBeLessThan(keptC.length);
    // C's empty candles end exactly where it left: its last trade's event time plus a multiple of
    // the idle time (the first at which it was dormant).
    const lastC = Math.max(...all.filter((t) => t.symbol === 'C').map((t) => t.eventTime));
    const leftC = evicted.parked.find((p) => p.key === 'sim:C')?.watermark ?? Number.NaN;
    expect((leftC - lastC) % (10 * MIN)).toBe(0);
    expect(leftC - lastC).toBeLessThanOrEqual(30 * MIN);
    for (const interval of ACTORS.intervals) {
      const len = interval === '1m' ? MIN : 5 * MIN;
      const ends = evictedC.filter((c) => c.interval === interval).map((c) => c.openTime + len);
      expect(Math.max(...ends)).toBe(Math.floor(leftC / len) * len);
    }
    const keptCs = new Set(keptC.map((c) => JSON.stringify(c)));
    expect(evictedC.filter((c) => !keptCs.has(JSON.stringify(c)))).toEqual([]);
    const ek = evicted.candles.filter((c) => c.symbol !== 'C');
    const kk = kept.candles.filter((c) => c.symbol !== 'C');
    expect(ek).toEqual(kk);
    expect(evicted.alerts.filter((a) => a.symbol !== 'C')).toEqual(kept.alerts.filter((a) => a.symbol !== 'C'));
    expect(evicted.lines.filter((l) => !afterC(l))).toEqual(kept.lines.filter((l) => !afterC(l)));
    expect(kept.lines.length).toBeGreaterThan(500);

    // The same with the runner restarted from its checkpoint while B is parked and after the jump.
    const restarted = await run(all, 10 * MIN, {
      ...PLAIN,
      cuts: [Math.floor(all.length * 0.35), Math.floor(all.length * 0.8)],
    });
    expect(restarted.candles).toEqual(evicted.candles);
    expect(restarted.alerts).toEqual(evicted.alerts);
    expect(restarted.lines.filter((l) => !afterC(l))).toEqual(kept.lines.filter((l) => !afterC(l)));
  }, 180_000);

  it('leaves at a point of the data alone: batching, restarts, ticks and the clock change nothing', async () => {
    const all = trades();
    const summary = (r: Awaited<ReturnType<typeof run>>) => ({
      candles: r.candles,
      alerts: r.alerts,
      parked: r.parked.map((p) => `${p.key}@${p.watermark}`).sort(),
    });
    const reference = summary(await run(all, 10 * MIN, PLAIN, { partialUpdates: true }));
    expect(reference.parked.length).toBeGreaterThan(0);
    const offset = fc.integer({ min: 1, max: all.length - 1 });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          batch: fc.integer({ min: 1, max: 120 }),
          cuts: fc.uniqueArray(offset, { maxLength: 2 }).map((c) => c.sort((a, b) => a - b)),
          backlog: fc.boolean(),
          clockStep: fc.integer({ min: 1, max: 400 }),
          tickEvery: fc.integer({ min: 0, max: 4 }),
          checkpointIntervalMs: fc.constantFrom(0, 100, 5_000),
        }),
        async (driving) => {
          expect(summary(await run(all, 10 * MIN, driving, { partialUpdates: true }))).toEqual(reference);
        },
      ),
      { numRuns: 6, seed: 17 },
    );
  }, 600_000);

  it('a jump over several leaving points leaves at the first one it is dormant at, as gradual sweeps do', async () => {
    // X trades for five minutes and is not dormant 10 minutes on (its volume baseline has not
    // judged it yet), but is 20 minutes on. HB keeps the partition moving: all along, or with a
    // silence that jumps the watermark from before X's first leaving point past its second.
    const x: Trade[] = [];
    for (let t = T0, id = 1; t < T0 + 5 * MIN; t += 30_000) x.push(simTrade('X', String(id++), t));
    const lastX = (x.at(-1) as Trade).eventTime;
    const hb = (silent: boolean) => {
      const out: Trade[] = [];
      for (let t = T0, id = 1; t < T0 + 60 * MIN; t += 15_000) {
        if (silent && t > lastX + 8 * MIN && t < lastX + 35 * MIN) continue;
        out.push(simTrade('HB', String(id++), t));
      }
      return out;
    };
    const both = (silent: boolean) => [...x, ...hb(silent)].sort((a, b) => a.eventTime - b.eventTime);
    const gradual = await run(both(false), 10 * MIN, PLAIN, { symbols: ['X'] });
    const jump = await run(both(true), 10 * MIN, PLAIN, { symbols: ['X'] });
    const left = (r: typeof gradual) => r.parked.find((p) => p.key === 'sim:X')?.watermark;
    expect(left(gradual)).toBe(lastX + 20 * MIN);
    expect(left(jump)).toBe(lastX + 20 * MIN);
    expect(jump.candles).toEqual(gradual.candles);
  }, 120_000);

  it('keeps the actors in memory bounded while thousands of markets go idle', async () => {
    // 1,500 markets, each trading for one minute, a new one every 4 s of event time, beside one
    // that trades all along: a market leaves 10 or 20 minutes after its last trade (when its
    // volume baseline has judged it), so at most about 320 stay.
    const out: Trade[] = [];
    const symbols: string[] = [];
    const markets = 1_500;
    for (let m = 0; m < markets; m++) {
      const symbol = `M${m}`;
      symbols.push(symbol);
      for (let k = 0; k < 4; k++) {
        const t = T0 + m * 4_000 + k * 15_000;
        out.push(simTrade(symbol, String(k + 1), t));
      }
    }
    for (let t = T0, id = 1; t < T0 + markets * 4_000 + 30 * MIN; t += 5_000) out.push(simTrade('HB', String(id++), t));
    out.sort((x, y) => x.eventTime - y.eventTime);
    let most = 0;
    const memory = async (m: WorkerMetrics) => {
      const v = (await m.markets.get()).values.find((x) => x.labels.state === 'memory');
      most = Math.max(most, v?.value ?? 0);
    };
    const r = await run(out, 10 * MIN, { ...PLAIN, batch: 200 }, { symbols: [], onBatch: memory });
    expect(most).toBeGreaterThan(100);
    expect(most).toBeLessThan(350);
    expect(r.parked.length).toBe(markets);
    expect(r.evictions.parked).toBe(markets);
    // The checkpoint holds the markets in memory only: a few hundred bytes each, not 1,500 of them.
    expect(r.state).toBeLessThan(350 * 2_000);
  }, 300_000);
});

describe('sweeps that visit only the actors due', () => {
  it.each([
    ['replaying, evicting', 10 * MIN, undefined],
    ['replaying, keeping every market', undefined, undefined],
    ['live (clock sweeps ahead of the data), evicting', 10 * MIN, 40_000],
    ['live (clock sweeps ahead of the data), keeping every market', undefined, 40_000],
  ] as const)(
    'emit what sweeping every actor emits, across restores and crashes: %s',
    async (_, evictIdleMs, live) => {
      const all = trades();
      const cuts = [Math.floor(all.length * 0.3), Math.floor(all.length * 0.55), Math.floor(all.length * 0.8)];
      // A batch and a tick at a time; a checkpoint after each (so the restores start from
      // incremental ones). The clock of a live run moves with the records, so two runs driven
      // alike sweep alike; with cuts the batches (and ticks) fall elsewhere after each cut, so
      // each run is compared with the reference run driven the same way.
      const driving = (cut: boolean): Driving => ({
        ...PLAIN,
        backlog: false,
        tickEvery: 1,
        batch: 25,
        cuts: cut ? cuts : [],
      });
      const both = async (cut: boolean, crash: boolean) => {
        const sweep = { ...(live === undefined ? {} : { live }), crash };
        const options = { partialUpdates: true };
        return [
          await run(all, evictIdleMs, driving(cut), { ...options, sweep: { ...sweep, everyActor: true } }),
          await run(all, evictIdleMs, driving(cut), { ...options, sweep }),
        ] as const;
      };
      const [want, due] = await both(false, false);
      expect(want.candles.length).toBeGreaterThan(400);
      expect(want.alerts.length).toBeGreaterThan(0);
      expect(due.candles).toEqual(want.candles);
      expect(due.alerts).toEqual(want.alerts);
      // Every closed and revised candle, alert, late and rejected trade, in the same numbers.
      expect(due.lines).toEqual(want.lines);
      expect(due.parked).toEqual(want.parked);
      // Restored three times from incremental checkpoints (one after every batch).
      const [wantRestored, restored] = await both(true, false);
      expect(restored.checkpoints).toBeGreaterThan(20);
      expect(restored.candles).toEqual(wantRestored.candles);
      expect(restored.alerts).toEqual(wantRestored.alerts);
      expect(restored.lines).toEqual(wantRestored.lines);
      // Killed three times: each successor replays from the last incremental checkpoint.
      const [wantCrashed, crashed] = await both(true, true);
      expect(crashed.candles).toEqual(wantCrashed.candles);
      expect(crashed.alerts).toEqual(wantCrashed.alerts);
      expect(crashed.parked).toEqual(wantCrashed.parked);
      if (live === undefined) {
        // Replaying, the outputs are a function of the records alone: equal to the run without cuts.
        expect(restored.candles).toEqual(want.candles);
        expect(crashed.candles).toEqual(want.candles);
        expect(crashed.alerts).toEqual(want.alerts);
      }
    },
    600_000,
  );
});

function simTrade(symbol: string, tradeId: string, eventTime: number): Trade {
  return {
    exchange: 'sim',
    symbol,
    market: `${symbol}-USDT`,
    tradeId,
    price: '100.5',
    size: '0.25',
    side: 'buy',
    eventTime,
    receiveTime: eventTime,
  };
}
