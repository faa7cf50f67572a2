import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MarketActor } from '../internal/actor/market-actor.js';
import { createActorOutput } from '../internal/actor/output.js';
import { parseWorkerOptions } from '../internal/config/worker.js';
import type { Trade } from '../internal/market/trade.js';
import { DeadlineQueue } from '../internal/worker/deadline-queue.js';
import { workerActorConfig } from '../internal/worker/options.js';
import { encodePartitionState } from '../internal/worker/partition-state.js';
import { rng } from './actor.bench.js';
import type { Bench, BenchResult } from './bench.js';
import { type HeapBreakdown, heapBreakdown } from './heap-breakdown.js';

/**
 * Markets per worker, the actor side (no servers): N market actors as `tickmesh worker` makes
 * them (its default options, 1m 5m 15m 1h), each fed one hour of one trade a minute, then a
 * full checkpoint (every actor's snapshot, then the partition state encoded: what a partition
 * wrote before incremental checkpoints, and still writes once after a restore from such a state)
 * and an incremental one as the runner takes it each second while the markets trade once a
 * minute (the 1/60 of the actors that traded since the last one, and the partition state without
 * snapshots). Reports the heap per market after a full collection, the checkpoints' bytes and CPU
 * time (the PostgreSQL write comes on top), a clock tick's sweep over every actor against one
 * over a deadline queue with none due (mid-minute), and the trades/s of the feeding loop. N: 1,000, 10,000, 100,000 (TICKMESH_BENCH_MARKETS=a,b,c).
 * TICKMESH_BENCH_HEAP_BREAKDOWN=1 adds, at the first N, where each actor's bytes go (bench/heap-breakdown.ts;
 * a first N of 1,000 keeps the snapshot small).
 */
const gc = (): void => {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
};

/** Where an actor's bytes go, per market: the 20 largest paths from it and constructors. */
function breakdown(n: number, b: HeapBreakdown): BenchResult {
  const per = (bytes: number) => `${Math.round(bytes / b.owners)} B`;
  const details: Record<string, string | number> = { 'MarketActor instances': b.owners };
  for (const [path, bytes] of b.byPath.slice(0, 20))
    details[`path ${path === '' ? '(the actor object)' : path}`] = per(bytes);
  for (const [name, bytes] of b.byConstructor.slice(0, 20)) details[`constructor ${name}`] = per(bytes);
  return {
    name: `${n.toLocaleString('en-US')} markets: heap retained by each actor alone (heap snapshot, dominator tree)`,
    value: Math.round(b.retained / b.owners),
    unit: 'B',
    details,
  };
}

const bench: Bench = {
  name: 'markets',
  description: 'market actors per worker: heap per market, checkpoint bytes and CPU, feeding rate',
  async run({ quick }): Promise<readonly BenchResult[]> {
    const counts = (process.env.TICKMESH_BENCH_MARKETS ?? (quick ? '1000' : '1000,10000,100000'))
      .split(',')
      .map(Number);
    const config = workerActorConfig(parseWorkerOptions({ topic: 'bench', intervals: '1m,5m,15m,1h' }));
    const results: BenchResult[] = [];
    for (const n of counts) {
      gc();
      const mem0 = process.memoryUsage();
      const heap0 = mem0.heapUsed;
      const load = loadavg()[0]?.toFixed(1) ?? '';
      const random = rng(n);
      const actors = new Map<string, MarketActor>();
      const out = createActorOutput();
      const start = Date.UTC(2024, 0, 1);
      const prices = Float64Array.from({ length: n }, () => 1 + Math.floor(random() * 100_000));
      let trades = 0;
      const cpu0 = process.cpuUsage();
      for (let minute = 0; minute < 60; minute++) {
        for (let i = 0; i < n; i++) {
          const key = `M${i}USDT`;
          let actor = actors.get(key);
          if (actor === undefined) {
            actor = new MarketActor({ exchange: 'binance', symbol: key, market: `M${i}-USDT` }, config);
            actors.set(key, actor);
          }
          prices[i] = Math.max(1, (prices[i] as number) + Math.floor(random() * 7) - 3);
          const trade: Trade = {
            exchange: 'binance',
            symbol: key,
            market: `M${i}-USDT`,
            tradeId: String(minute + 1),
            price: `${prices[i]}.${Math.floor(random() * 100)}`,
            size: `0.${1 + Math.floor(random() * 999)}`,
            side: random() < 0.5 ? 'buy' : 'sell',
            eventTime: start + minute * 60_000 + Math.floor((i / n) * 60_000),
            receiveTime: start + minute * 60_000 + Math.floor((i / n) * 60_000),
          };
          actor.onTrade(trade, 0, out);
          trades++;
          if (out.closed.length > 1_000) {
            out.closed.length = 0;
            out.revised.length = 0;
            out.alerts.length = 0;
            out.indicators.length = 0;
            out.predictions.length = 0;
          }
        }
      }
      const feed = process.cpuUsage(cpu0);
      // The outputs of the last minutes are not the actors' memory.
      for (const list of [out.closed, out.revised, out.alerts, out.indicators, out.predictions]) list.length = 0;
      gc();
      const mem = process.memoryUsage();
      const heap = mem.heapUsed - heap0;
      const rss = mem.rss;
      // TICKMESH_BENCH_MARKETS_IDLE_MS=25000: the RSS once V8's memory reducer, which runs only
      // when the process is idle, has given back the pages the feeding left.
      const idleMs = Number(process.env.TICKMESH_BENCH_MARKETS_IDLE_MS) || 0;
      if (idleMs > 0) await new Promise((ok) => setTimeout(ok, idleMs));
      const idleRss = process.memoryUsage().rss;
      const c0 = process.cpuUsage();
      const snapshots = new Map<string, Uint8Array>();
      for (const [key, actor] of actors) snapshots.set(key, actor.snapshot());
      const snap = process.cpuUsage(c0);
      const state = encodePartitionState({ maxEventTime: start + 3_600_000, actors: snapshots });
      const all = process.cpuUsage(c0);
      // Incremental: the actors that traded in the last second (1/60 of them), then the state;
      // the median of 9 (a full collection of a large heap can fall into one).
      const changed = Math.max(1, Math.round(n / 60));
      let incremental = 0;
      const incMs: number[] = [];
      for (let round = 0; round < 9; round++) {
        const c1 = process.cpuUsage();
        incremental = 0;
        let k = 0;
        for (const actor of actors.values()) {
          if (k++ >= changed) break;
          incremental += actor.snapshot().length;
        }
        incremental += encodePartitionState({
          maxEventTime: start + 3_600_000,
          actors: new Map(),
          swept: start + 3_600_000,
          fresh: new Map(),
          actorsInRows: true,
        }).length;
        const used = process.cpuUsage(c1);
        incMs.push((used.user + used.system) / 1e3);
      }
      incMs.sort((a, b) => a - b);
      // Ticks just before the last minute's windows end (nothing due): every actor advanced,
      // against the deadline queue.
      const queue = new DeadlineQueue();
      for (const [key, actor] of actors) queue.schedule(key, actor.nextDue());
      const mid = start + 3_600_000 - 100;
      const taken: string[] = [];
      const ticks = 20;
      const c2 = process.cpuUsage();
      for (let t = 0; t < ticks; t++) queue.takeDue(mid + t, taken);
      const dueOnly = process.cpuUsage(c2);
      const c3 = process.cpuUsage();
      for (let t = 0; t < ticks; t++) for (const actor of actors.values()) actor.advance(mid + t, 0, out);
      const every = process.cpuUsage(c3);
      if (process.env.TICKMESH_BENCH_HEAP_BREAKDOWN === '1' && n === counts[0]) {
        results.push(breakdown(n, await heapBreakdown('MarketActor')));
      }
      results.push({
        name: `${n.toLocaleString('en-US')} markets: heap per market after GC`,
        value: Math.round(heap / n),
        unit: 'B',
        details: {
          'heap, MB': (heap / 1e6).toFixed(1),
          'process RSS, MB': (rss / 1e6).toFixed(0),
          ...(idleMs > 0 ? { [`process RSS after ${idleMs / 1000} s idle, MB`]: (idleRss / 1e6).toFixed(0) } : {}),
          // Typed arrays' stores outside the V8 heap, and the native memory around each (what
          // the RSS grew by beyond the heap and those stores: malloc headers, V8's backing-store
          // records), per market.
          'growth per market: heap / external / RSS': `${Math.round(heap / n)} / ${Math.round((mem.external - mem0.external) / n)} / ${Math.round((rss - mem0.rss) / n)} B`,
          'checkpoint bytes (every actor)': state.length,
          'checkpoint CPU ms: snapshots / + encoding': `${((snap.user + snap.system) / 1e3).toFixed(0)} / ${((all.user + all.system) / 1e3).toFixed(0)}`,
          [`incremental checkpoint bytes (${changed} actors changed)`]: incremental,
          'incremental checkpoint CPU ms (median of 9)': (incMs[4] as number).toFixed(2),
          'tick sweep CPU µs: every actor / due only (none due)': `${((every.user + every.system) / ticks).toFixed(0)} / ${((dueOnly.user + dueOnly.system) / ticks).toFixed(1)}`,
          'actors due at the tick': taken.length,
          'feeding trades per CPU-second (1 trade a minute each, 60 minutes)': Math.round(
            trades / ((feed.user + feed.system) / 1e6),
          ),
          'load (1 min) at the start': load,
        },
      });
      actors.clear();
    }
    return results;
  },
};

export default bench;
