import { describe, expect, it } from 'vitest';
import { actorConfig } from '../actor/config.js';
import type { ActorOutput } from '../actor/output.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { ALERTS_STREAM, CANDLES_STREAM } from '../bus/subject-names.js';
import type { LogRecord } from '../log/log.js';
import { MemoryLog } from '../log/memory-log.js';
import { tradeRecord } from '../log/record.js';
import type { Trade } from '../market/trade.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { MemoryCache } from '../sink/memory-cache.js';
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

async function openRunner(store: Store, metrics: WorkerMetrics, evictIdleMs: number | undefined) {
  const bus = new MemoryBus();
  await bus.ensureStream(CANDLES_STREAM);
  await bus.ensureStream(ALERTS_STREAM);
  const log = new MemoryLog();
  await log.admin().ensureTopic('late', 1);
  await log.admin().ensureTopic('rejected', 1);
  const outputs = new Recording({
    bus,
    cache: new MemoryCache(),
    producer: log.producer(),
    topics: { late: 'late', rejected: 'rejected' },
    logger: silentLogger(),
    metrics,
    clock: Date.now,
    liveCacheIntervalMs: 0,
  });
  // A short empty-candle cut (50 windows) so that the silence of the partition is a jump.
  const actors = marketActorFactory(
    actorConfig({ intervals: ['1m', '5m'], allowedLatenessMs: 30_000, partialUpdates: false, emptyCandleLimit: 50 }),
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
    clock: Date.now,
    flow: { pause() {}, resume() {} },
    config: {
      checkpointIntervalMs: 0,
      maxPendingRows: 1_000,
      mailboxCapacity: 8,
      pauseAt: 8,
      resumeAt: 0,
      outOfOrdernessMs: 2_000,
      idleGraceMs: 1_000,
      clockWatermark: false,
      liveWindowMs: 1,
      ...(evictIdleMs === undefined ? {} : { evictIdleMs }),
    },
  });
  return { runner, outputs };
}

/** Runs the records through runners of one store, a new runner (restored from the checkpoint) at each cut. */
async function run(all: readonly Trade[], evictIdleMs: number | undefined, cuts: readonly number[] = []) {
  const metrics = createWorkerMetrics(createRegistry({}, false));
  const store = await createPgliteStore();
  await store.migrate();
  const records: LogRecord[] = all.map((t, i) => {
    const r = tradeRecord(t);
    return { partition: 0, offset: BigInt(i), key: r.key, value: r.value, headers: r.headers ?? {}, timestamp: 0 };
  });
  const lines: string[] = [];
  let from = 0;
  for (const end of [...cuts, records.length]) {
    const { runner, outputs } = await openRunner(store, metrics, evictIdleMs);
    const signal = AbortSignal.timeout(60_000);
    const done = runner.run(signal);
    for (let i = Number(runner.offset); i < end; i += 40) {
      const batch = records.slice(i, Math.min(i + 40, end));
      await runner.enqueue({ topic: 't', partition: 0, records: batch, highWatermark: BigInt(end) }, signal);
    }
    runner.stop();
    await done;
    lines.push(...outputs.lines);
    from = end;
  }
  expect(from).toBe(records.length);
  const candles = [];
  for (const symbol of ['A', 'B', 'C'])
    for (const interval of ['1m', '5m'] as const)
      candles.push(...(await store.candles({ exchange: 'sim', symbol, interval, from: 0, limit: 100_000 })));
  const alerts = await store.alerts({ limit: 100_000 });
  const checkpoint = await store.loadCheckpoint('t', 0);
  const parked = await store.parkedActors('t', 0);
  const evictions = Object.fromEntries((await metrics.evictions.get()).values.map((v) => [v.labels.event, v.value]));
  await store.close();
  return { lines: lines.sort(), candles, alerts, state: checkpoint?.state.length ?? 0, parked, evictions };
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
    const keptCs = new Set(keptC.map((c) => JSON.stringify(c)));
    expect(evictedC.filter((c) => !keptCs.has(JSON.stringify(c)))).toEqual([]);
    const ek = evicted.candles.filter((c) => c.symbol !== 'C');
    const kk = kept.candles.filter((c) => c.symbol !== 'C');
    expect(ek).toEqual(kk);
    expect(evicted.alerts.filter((a) => a.symbol !== 'C')).toEqual(kept.alerts.filter((a) => a.symbol !== 'C'));
    expect(evicted.lines.filter((l) => !afterC(l))).toEqual(kept.lines.filter((l) => !afterC(l)));
    expect(kept.lines.length).toBeGreaterThan(500);

    // The same with the runner restarted from its checkpoint while B is parked and after the jump.
    const restarted = await run(all, 10 * MIN, [1_500, Math.floor(all.length * 0.8)]);
    expect(restarted.candles).toEqual(evicted.candles);
    expect(restarted.alerts).toEqual(evicted.alerts);
    expect(restarted.lines.filter((l) => !afterC(l))).toEqual(kept.lines.filter((l) => !afterC(l)));
  }, 180_000);
});
