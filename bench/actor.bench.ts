import { performance } from 'node:perf_hooks';
import { actorConfig } from '../internal/actor/config.js';
import { MarketActor } from '../internal/actor/market-actor.js';
import { type ActorOutput, clearActorOutput, createActorOutput } from '../internal/actor/output.js';
import type { Trade } from '../internal/market/trade.js';
import { collectGarbage } from '../test/harness/gc.js';
import type { Bench, BenchResult } from './bench.js';

/**
 * Trades per second through the actor core on one thread: 1,000 markets, the 1m 5m 15m 1h
 * intervals, every indicator and detector on, partial updates on (250 ms per market), 1% of
 * trades out of order within the out-of-orderness and 0.1% duplicated, every market advanced
 * from the clock every 100 ms of event time as a live worker would. Market activity follows a
 * Zipf law (the busiest market has ~13% of the trades), at 10,000 trades per second of event
 * time overall. Trades are generated before the clock starts; decimal strings are parsed by the
 * actor inside the timed loop.
 */
const MARKETS = 1_000;
const CHUNK = 250_000;

/** A small deterministic PRNG (mulberry32), so every run sees the same trades. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface MarketSim {
  symbol: string;
  market: string;
  /** Price in ticks of 10^-pd. */
  ticks: number;
  pd: number;
  sd: number;
  maxSize: number;
  nextId: number;
  last: Trade | undefined;
}

function fixed(v: number, d: number): string {
  if (d === 0) return String(v);
  const s = String(v).padStart(d + 1, '0');
  return `${s.slice(0, s.length - d)}.${s.slice(s.length - d)}`;
}

class Generator {
  private readonly random = rng(42);
  private readonly cumulative: Float64Array;
  readonly markets: MarketSim[] = [];
  private time = Date.UTC(2024, 2, 1);

  constructor(private readonly ratePerMs: number) {
    const weights = Array.from({ length: MARKETS }, (_, i) => 1 / (i + 1));
    const total = weights.reduce((a, b) => a + b, 0);
    this.cumulative = new Float64Array(MARKETS);
    let c = 0;
    weights.forEach((w, i) => {
      c += w / total;
      this.cumulative[i] = c;
    });
    for (let i = 0; i < MARKETS; i++) {
      // Prices from 0.0001 to ~60,000 with the decimals such markets print.
      const magnitude = 10 ** (this.random() * 8.8 - 4);
      const pd = Math.max(0, Math.min(8, 4 - Math.floor(Math.log10(magnitude))));
      const market = {
        symbol: `M${i}USDT`,
        market: `M${i}-USDT`,
        ticks: Math.max(1, Math.round(magnitude * 10 ** pd)),
        pd,
        sd: Math.floor(this.random() * 6),
        maxSize: 0,
        nextId: 1_000_000_000 + i * 10,
        last: undefined,
      } as MarketSim;
      // Sizes up to ~5,000 quote per trade: whale trades stay rare, as on a real venue.
      market.maxSize = Math.max(1, Math.round((5_000 / magnitude) * 10 ** market.sd));
      this.markets.push(market);
    }
  }

  private pick(): MarketSim {
    const r = this.random();
    let lo = 0;
    let hi = MARKETS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.cumulative[mid] as number) < r) lo = mid + 1;
      else hi = mid;
    }
    return this.markets[lo] as MarketSim;
  }

  chunk(n: number): Trade[] {
    const out: Trade[] = new Array(n);
    for (let i = 0; i < n; i++) {
      this.time += -Math.log(1 - this.random()) / this.ratePerMs;
      const m = this.pick();
      const dup = this.random();
      if (dup < 0.001 && m.last !== undefined) {
        out[i] = m.last;
        continue;
      }
      const step = Math.floor(this.random() * 7) - 3;
      m.ticks = Math.max(1, m.ticks + step);
      const late = this.random() < 0.01 ? Math.floor(this.random() * 1_500) : 0;
      const whale = this.random() < 0.0001 ? 50 : 1;
      const eventTime = Math.floor(this.time) - late;
      const trade: Trade = {
        exchange: 'binance',
        symbol: m.symbol,
        market: m.market,
        tradeId: String(m.nextId++),
        price: fixed(m.ticks, m.pd),
        size: fixed((1 + Math.floor(this.random() * m.maxSize)) * whale, m.sd),
        side: this.random() < 0.5 ? 'buy' : 'sell',
        eventTime,
        receiveTime: Math.floor(this.time) + 150,
      };
      m.last = trade;
      out[i] = trade;
    }
    return out;
  }
}

interface Scenario {
  readonly label: string;
  /** Trades per ms of event time, all markets together. */
  readonly ratePerMs: number;
  readonly partials: boolean;
  /** Every this many ms of event time, every market is advanced (clock tick or partition watermark). */
  readonly tickMs: number;
  readonly trades: number;
}

export async function measure(sc: Scenario, gc: () => void): Promise<BenchResult[]> {
  const config = actorConfig({ intervals: ['1m', '5m', '15m', '1h'], partialUpdates: sc.partials });
  const gen = new Generator(sc.ratePerMs);
  gc();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const actors = new Map<string, MarketActor>();
  for (const m of gen.markets) {
    actors.set(m.symbol, new MarketActor({ exchange: 'binance', symbol: m.symbol, market: m.market }, config));
  }
  const all = [...actors.values()];
  const out: ActorOutput = createActorOutput();
  const counts = { closed: 0, revised: 0, partial: 0, alerts: 0, late: 0, indicators: 0, advances: 0 };
  const drain = (): void => {
    counts.closed += out.closed.length;
    counts.revised += out.revised.length;
    counts.partial += out.partial.length;
    counts.alerts += out.alerts.length;
    counts.late += out.late.length;
    counts.indicators += out.indicators.length;
    clearActorOutput(out);
  };
  let nextTick = 0;
  const run = (trades: Trade[]): void => {
    for (let i = 0; i < trades.length; i++) {
      const t = trades[i] as Trade;
      const now = t.receiveTime;
      (actors.get(t.symbol) as MarketActor).onTrade(t, now, out);
      if (now >= nextTick) {
        for (let k = 0; k < all.length; k++) (all[k] as MarketActor).advance(now - config.outOfOrdernessMs, now, out);
        counts.advances += all.length;
        nextTick = now + sc.tickMs;
        drain();
      }
    }
    drain();
  };
  // Warm-up (not timed): lets the JIT settle on the hot paths.
  run(gen.chunk(100_000));
  for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] = 0;
  let elapsed = 0;
  let done = 0;
  let first = Number.NaN;
  let last = Number.NaN;
  // One chunk per call, so no stack slot of this frame keeps the last chunk alive for the heap figure.
  const timedChunk = (n: number): void => {
    const trades = gen.chunk(n);
    if (Number.isNaN(first)) first = (trades[0] as Trade).eventTime;
    last = (trades[trades.length - 1] as Trade).eventTime;
    const t0 = performance.now();
    run(trades);
    elapsed += performance.now() - t0;
    done += trades.length;
  };
  while (done < sc.trades) timedChunk(Math.min(CHUNK, sc.trades - done));
  gc();
  gc();
  const heapPerMarket = (process.memoryUsage().heapUsed - heapBefore) / MARKETS;
  const s0 = performance.now();
  const snaps = all.map((a) => a.snapshot());
  const s1 = performance.now();
  for (const b of snaps) MarketActor.restore(b, config);
  const s2 = performance.now();
  const sizes = snaps.map((b) => b.length).sort((a, b) => a - b);
  const sum = { accepted: 0, duplicates: 0, late: 0 };
  for (const a of all) {
    sum.accepted += a.counters.accepted;
    sum.duplicates += a.counters.duplicates;
    sum.late += a.counters.late;
  }
  return [
    {
      name: `${sc.label}: trades per second, one core`,
      value: Math.round(done / (elapsed / 1000)),
      unit: 'trades/s',
      details: {
        trades: done,
        'event time covered': `${((last - first) / 1000).toFixed(0)} s`,
        seconds: (elapsed / 1000).toFixed(2),
        accepted: sum.accepted,
        duplicates: sum.duplicates,
        'late (past lateness)': sum.late,
        'closed candles': counts.closed,
        'revised candles': counts.revised,
        'partial candles': counts.partial,
        alerts: counts.alerts,
        'advance calls': counts.advances,
      },
    },
    {
      name: `${sc.label}: checkpoint bytes per market (mean)`,
      value: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
      unit: 'bytes',
      details: {
        median: sizes[sizes.length >> 1] as number,
        max: sizes[sizes.length - 1] as number,
        'snapshot µs per market': (((s1 - s0) * 1000) / all.length).toFixed(1),
        'restore µs per market': (((s2 - s1) * 1000) / all.length).toFixed(1),
      },
    },
    { name: `${sc.label}: heap per market (after GC)`, value: Math.round(heapPerMarket), unit: 'bytes' },
  ];
}

/**
 * Checkpoint size once every look-back is full: one market after 3 hours of event time at one
 * trade per second (the scenarios above cover too little event time to fill 60-candle rings).
 */
function steadyCheckpoint(): BenchResult {
  const id = { exchange: 'binance', symbol: 'BTCUSDT', market: 'BTC-USDT' };
  const actor = new MarketActor(id, actorConfig({ partialUpdates: false }));
  const out = createActorOutput();
  const t0 = Date.UTC(2024, 2, 1);
  for (let i = 0; i < 3 * 3_600; i++) {
    actor.onTrade(
      {
        ...id,
        tradeId: String(1_000_000_000 + i),
        price: (42_000 + (i % 50) / 100).toFixed(2),
        size: `0.01${i % 9}`,
        side: i % 2 === 0 ? 'buy' : 'sell',
        eventTime: t0 + i * 1_000,
        receiveTime: t0 + i * 1_000,
      },
      0,
      out,
    );
    clearActorOutput(out);
  }
  return {
    name: 'checkpoint bytes, one market with every look-back full (3 h at 1 trade/s, default config)',
    value: actor.snapshot().length,
    unit: 'bytes',
  };
}

const bench: Bench = {
  name: 'actor',
  description:
    'MarketActor core: 1,000 markets (Zipf activity), 1m 5m 15m 1h, every indicator and detector on, ' +
    '1% of trades out of order, 0.1% duplicated',
  async run({ quick }): Promise<readonly BenchResult[]> {
    const gc = collectGarbage();
    const n = quick ? 500_000 : 5_000_000;
    const results: BenchResult[] = [];
    // Live: event time runs at the throughput target (1M trades/s); partials at most every 250 ms
    // per market; every market advanced from the clock every 100 ms.
    results.push(...(await measure({ label: 'live', ratePerMs: 1_000, partials: true, tickMs: 100, trades: n }, gc)));
    // Replay of history: 100x denser in candles (10,000 trades per second of event time, so
    // ~4,000 candles close per 600,000 trades); no partials; the partition watermark advances
    // every market once per second of event time.
    results.push(...(await measure({ label: 'replay', ratePerMs: 10, partials: false, tickMs: 1_000, trades: n }, gc)));
    results.push(steadyCheckpoint());
    return results;
  },
};

export default bench;
