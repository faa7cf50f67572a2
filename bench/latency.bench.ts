import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type { Worker as Thread } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';
import { createNatsBus } from '../internal/bus/nats-bus.js';
import { fixRequestQueueTimers } from '../internal/log/kafka-request-queue.js';
import { type Interval, intervalMs } from '../internal/market/interval.js';
import type { Bench, BenchResult } from './bench.js';
import {
  busyShare,
  cleanup,
  createTopics,
  type Endpoints,
  fmt,
  freePort,
  INTERVALS,
  machineCpu,
  ms,
  procCpu,
  quantile,
  type Scrape,
  scrape,
  servers,
  sleep,
  sorted,
  startLoad,
  startWorkerProcess,
  stopWorkerProcess,
  type WorkerProcess,
  wallNow,
} from './worker.bench.js';
import { benchMarkets, type LoadCommand } from './worker-load.js';

/**
 * The worker's own share of the latency, and scale-out (issue 21, points 3 and 7;
 * docs/BENCHMARKS.md, "Latency that isolates the worker"):
 *
 * isolated  `tickmesh worker` pinned to core 1 (`taskset -c 1`, and with `chrt -f 10` in a second
 *           variant), this process (the load thread and the NATS subscriber) pinned to core 0, and,
 *           with TICKMESH_BENCH_PIN_SERVERS=1, the servers test/infra started pinned to core 0 for
 *           the run (their affinity restored after). bench/latency-probe.ts timestamps the worker's
 *           receipt of each batch and the publish of each price, partial and closed candle inside
 *           the worker; this process timestamps the price updates and closed candles as NATS
 *           delivers them. At 1,000, 5,000 and 20,000 trades/s (TICKMESH_BENCH_LATENCY_RATES).
 * scaleout  one worker on the topic's 8 partitions, then two workers on 4 each, on the same load,
 *           pinned and prioritised as the isolated scenario's `rt` variant (both workers on core
 *           1): worker CPU per trade side by side.
 *
 * TICKMESH_BENCH_LATENCY=isolated,scaleout picks the scenarios; TICKMESH_BENCH_LATENCY_VARIANTS
 * the isolated variants (pinned,rt); TICKMESH_BENCH_LATENCY_PROFILE=<dir> writes a CPU profile of
 * the worker during the measured window of the 5,000/s phase of each isolated variant.
 * TICKMESH_BENCH_LATENCY_BASELINE=<dir>: a variant named `<variant>@baseline` runs the worker (and
 * its probe) from that checkout, another version of tickmesh with its node_modules, so that two
 * versions are measured side by side in one run (`rt@baseline,rt`).
 */

const MARKETS = 1_000;
/** The worker's defaults (docs/WORKER.md): the watermark's lag behind a market's newest trade, and the partition's idle grace. */
const OUT_OF_ORDERNESS_MS = 2_000;
const IDLE_GRACE_MS = 5_000;

interface Probe {
  keys: string[];
  prices: {
    waitMs: number[];
    at: number[];
    key: number[];
    tradeId: number[];
    fromReceipt: number[];
    fromAppend: number[];
    inBatch: number[];
  };
  partials: { at: number[]; fromReceipt: number[]; fromAppend: number[] };
  closed: {
    at: number[];
    key: number[];
    openTime: number[];
    intervalMs: number[];
    fromWatermark: number[];
    inBatch: number[];
  };
  batches: {
    at: number[];
    waitMs: number[];
    ms: number[];
    emitMs: number[];
    records: number[];
    prices: number[];
    partials: number[];
  };
  ticks: { at: number[]; ms: number[]; prices: number[]; partials: number[] };
}

function pq(values: number[]): string {
  const s = sorted(values);
  if (s.length === 0) return 'none';
  return `${ms(quantile(s, 0.5))} / ${ms(quantile(s, 0.99))} (n=${s.length})`;
}

/** CPU affinity of every thread of `pid` (its children too, for PostgreSQL). */
function threadsOf(pid: number, children: boolean): number[] {
  const pids = [pid];
  if (children) {
    try {
      const out = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
      pids.push(...out.split('\n').filter(Boolean).map(Number));
    } catch {
      // no children
    }
  }
  return pids;
}

function pidFile(server: string): number | undefined {
  try {
    return Number(readFileSync(`/tmp/tickmesh-infra/pids/${server}.pid`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/**
 * Pins the servers test/infra started (Kafka, PostgreSQL, NATS, Redis) to `cpus`, all threads;
 * returns the function that gives every pinned process its affinity back.
 */
function pinServers(cpus: string): () => void {
  const restore: Array<[number, string]> = [];
  for (const s of ['kafka', 'postgres', 'nats', 'redis']) {
    const pid = pidFile(s);
    if (pid === undefined) continue;
    for (const p of threadsOf(pid, s === 'postgres')) {
      try {
        const mask = execFileSync('taskset', ['-p', String(p)], { encoding: 'utf8' })
          .trim()
          .split(' ')
          .pop() as string;
        execFileSync('taskset', ['-a', '-p', '-c', cpus, String(p)], { stdio: 'ignore' });
        restore.push([p, mask]);
      } catch {
        // the process ended meanwhile
      }
    }
  }
  process.stderr.write(`latency bench: ${restore.length} server processes pinned to CPU ${cpus}\n`);
  return () => {
    const masks = new Map(restore);
    // PostgreSQL backends forked during the run inherited the pinned mask: they get the postmaster's.
    const postmaster = restore.find(([p]) => pidFile('postgres') === p);
    if (postmaster) for (const p of threadsOf(postmaster[0], true)) if (!masks.has(p)) restore.push([p, postmaster[1]]);
    for (const [p, mask] of restore) {
      try {
        execFileSync('taskset', ['-a', '-p', mask, String(p)], { stdio: 'ignore' });
      } catch {
        // ended
      }
    }
    process.stderr.write(`latency bench: affinity of ${restore.length} server processes restored\n`);
  };
}

/** CPU seconds of each thread of `pid` so far, by thread name. */
function threadCpu(pid: number): string {
  const by = new Map<string, number>();
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      by.set(name, (by.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    }
  } catch {
    return 'unknown';
  }
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .map(([n, s]) => `${n} ${s.toFixed(1)}`)
    .join(', ');
}

/** Gives the V8 profiler's threads of `pid` a real-time priority above the worker's. */
function raiseProfilerThread(pid: number): void {
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim();
      if (name.startsWith('v8:Prof') || name.startsWith('SignalInspector'))
        execFileSync('chrt', ['-f', '-p', '20', t], { stdio: 'ignore' });
    } catch {
      // the thread ended
    }
  }
}

function rates(defaults: string): number[] {
  return (process.env.TICKMESH_BENCH_LATENCY_RATES ?? defaults).split(',').map(Number);
}

function send(proc: WorkerProcess, msg: object, reply: string): Promise<{ error?: string }> {
  return new Promise((ok) => {
    const on = (m: { type: string; error?: string }) => {
      if (m.type !== reply) return;
      proc.child.off('message', on);
      ok(m);
    };
    proc.child.on('message', on);
    proc.child.send(msg);
  });
}

async function stopWorker(proc: WorkerProcess | undefined): Promise<void> {
  if (proc) await stopWorkerProcess(proc);
}

interface PhaseSample {
  rate: number;
  measureFrom: number;
  end: number;
  sent: number;
  acks: Float64Array;
  workerCpu: number;
  trades: number;
  busy: string;
  load: string;
}

/** Runs the load at each rate; per phase: the worker processes' CPU (cores) and trades counted by their /metrics. */
async function phases(
  load: { thread: Thread; next: ReturnType<typeof startLoad>['next'] },
  workers: { pid: number; port: number }[],
  list: number[],
  warmupMs: number,
  measureMs: number,
  during?: (rate: number) => void,
): Promise<PhaseSample[]> {
  const out: PhaseSample[] = [];
  const count = async () => {
    const s: Scrape[] = await Promise.all(workers.map((w) => scrape(w.port)));
    return s.reduce((a, x) => a + x.trades, 0);
  };
  for (const rate of list) {
    load.thread.postMessage({ type: 'phase', rate, warmupMs, measureMs } satisfies LoadCommand);
    await sleep(warmupMs);
    const tradesA = await count();
    const cpuA = workers.reduce((a, w) => a + procCpu(w.pid), 0);
    const machineA = machineCpu();
    const tA = performance.now();
    during?.(rate);
    const done = await load.next('phase-done');
    await sleep(300);
    const wallS = (performance.now() - tA) / 1000;
    const cpu = (workers.reduce((a, w) => a + procCpu(w.pid), 0) - cpuA) / wallS;
    out.push({
      rate,
      measureFrom: done.measureFrom,
      end: done.end,
      sent: done.sent,
      acks: done.acks,
      workerCpu: cpu,
      trades: (await count()) - tradesA,
      busy: busyShare(machineA, machineCpu()),
      load: loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// isolated

/** The checkout a `<variant>@baseline` worker runs from, or undefined for this one. */
function baselineDir(variant: string): string | undefined {
  if (!variant.endsWith('@baseline')) return undefined;
  const dir = process.env.TICKMESH_BENCH_LATENCY_BASELINE;
  if (dir === undefined) throw new Error(`latency bench: variant ${variant} needs TICKMESH_BENCH_LATENCY_BASELINE`);
  return resolve(dir);
}

async function isolated(env: Endpoints, quick: boolean, named: string): Promise<BenchResult[]> {
  const variant = named.replace(/@baseline$/, '');
  const cwd = baselineDir(named);
  const list = rates('1000,5000,20000');
  const warmupMs = quick ? 2_000 : 5_000;
  const measureMs = Number(process.env.TICKMESH_BENCH_LATENCY_MEASURE_MS) || (quick ? 5_000 : 20_000);
  const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const prefix = `I${tag.toUpperCase()}N`;
  const topic = `bench-latency-${tag}`;
  const schema = `bench_latency_${tag}`;
  const kafka = new Kafka({
    clientId: 'bench-latency',
    brokers: env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const topics = await createTopics(kafka, topic);
  const markets = benchMarkets(prefix, MARKETS);
  const dir = resolve(tmpdir(), `tickmesh-latency-${tag}`);
  mkdirSync(dir, { recursive: true });
  const profileDir = process.env.TICKMESH_BENCH_LATENCY_PROFILE;
  let proc: WorkerProcess | undefined;
  let load: ReturnType<typeof startLoad> | undefined;
  try {
    const port = await freePort();
    proc = await startWorkerProcess(
      env,
      [
        ...['--topic', topic, '--schema', schema, '--intervals', INTERVALS, '--port', String(port)],
        ...['--clock-watermark', 'true', '--partial-updates', 'true'],
        ...(process.env.TICKMESH_BENCH_WORKER_ARGS?.split(' ').filter((a) => a !== '') ?? []),
        ...['--late-topic', `${topic}.late`, '--rejected-topic', `${topic}.rejected`],
      ],
      { prefix: ['taskset', '-c', '1'], nodeArgs: ['--import', './bench/latency-probe.ts'], ipc: true, cwd },
    );
    const pid = proc.child.pid as number;
    // Real-time priority for the worker's own threads once it runs: started under `chrt`, the
    // start-up's helper processes inherit SCHED_FIFO on the one core and spin there.
    // `rt`: the main thread only; `rt-all`: every thread of the process.
    if (variant === 'rt') execFileSync('chrt', ['-f', '-p', '10', String(pid)], { stdio: 'ignore' });
    if (variant === 'rt-all') execFileSync('chrt', ['-f', '-a', '-p', '10', String(pid)], { stdio: 'ignore' });
    const policy = execFileSync('chrt', ['-p', String(pid)], { encoding: 'utf8' })
      .trim()
      .replace(/\n/g, '; ');
    const affinity = execFileSync('taskset', ['-p', String(pid)], { encoding: 'utf8' }).trim();

    // NATS arrivals of price updates (market, trade id) and closed candles.
    const arrivals: { key: string; id: number; at: number }[] = [];
    const closedArrivals: { at: number; key: string }[] = [];
    const bus = await createNatsBus({ servers: env.NATS_URL, name: 'bench-latency' });
    const decoder = new TextDecoder();
    const priceSub = bus.subscribe('tickmesh.price.>', { capacity: 200_000 });
    const closedSub = bus.subscribe('tickmesh.candle.closed.>', { capacity: 200_000 });
    const receiving = Promise.all([
      (async () => {
        for await (const msg of priceSub) {
          const at = wallNow();
          const p = JSON.parse(decoder.decode(msg.data)) as { exchange: string; symbol: string; tradeId: string };
          arrivals.push({ key: `${p.exchange}:${p.symbol}`, id: Number(p.tradeId), at });
        }
      })(),
      (async () => {
        for await (const msg of closedSub) {
          const at = wallNow();
          const c = JSON.parse(decoder.decode(msg.data)) as { exchange: string; symbol: string; openTime: number };
          closedArrivals.push({ at, key: `${c.exchange}:${c.symbol}#${c.openTime}#${msg.subject.split('.')[3]}` });
        }
      })(),
    ]);

    load = startLoad(env, topic, markets);
    await load.next('ready');
    const profiles: string[] = [];
    const samples = await phases(load, [{ pid, port }], list, warmupMs, measureMs, (rate) => {
      if (profileDir === undefined || rate !== 5_000) return;
      mkdirSync(profileDir, { recursive: true });
      const file = resolve(profileDir, `worker-${named.replace('@', '-')}-${rate}-${tag}.cpuprofile`);
      profiles.push(file);
      void send(proc as WorkerProcess, { type: 'profile', file, ms: measureMs }, 'profiled');
      // The profiler's sampling thread inherits the main thread's SCHED_FIFO priority and could not
      // preempt it: every sample would land where the main thread waits. It gets a higher one.
      if (variant !== 'pinned') setTimeout(() => raiseProfilerThread(pid), 500);
    });
    await sleep(1_000);
    const dump = resolve(dir, 'probe.json');
    await send(proc, { type: 'dump', file: dump }, 'dumped');
    const probe = JSON.parse(readFileSync(dump, 'utf8')) as Probe;
    load.thread.postMessage({ type: 'finish' } satisfies LoadCommand);
    await load.next('stamps');
    priceSub.unsubscribe();
    closedSub.unsubscribe();
    await receiving;
    await bus.close();

    // Append time of each published price update, by (market, trade id), from the probe.
    const appendOf = new Map<string, { append: number; own: boolean }>();
    const pr = probe.prices;
    for (let i = 0; i < pr.at.length; i++) {
      appendOf.set(`${probe.keys[pr.key[i] as number]}#${pr.tradeId[i]}`, {
        append: (pr.at[i] as number) - (pr.fromAppend[i] as number),
        own: pr.inBatch[i] === 2,
      });
    }
    // When the watermark passed each closed candle's end (wall clock), by (market, open time, interval).
    const passedOf = new Map<string, number>();
    const cl = probe.closed;
    const intervalName = new Map(INTERVALS.split(',').map((i) => [intervalMs(i as Interval), i]));
    // A window closed in a batch: by its market's own trade (appended at or after end + the
    // out-of-orderness: that append is when the watermark passed the end), or by the partition
    // watermark, the idle grace later (event time follows the send time here, so end + 7 s).
    const passedAt = (i: number): number => {
      const end = (cl.openTime[i] as number) + (cl.intervalMs[i] as number);
      const append = (cl.at[i] as number) - (cl.fromWatermark[i] as number);
      if (cl.inBatch[i] !== 1) return append;
      return append >= end + OUT_OF_ORDERNESS_MS ? append : end + OUT_OF_ORDERNESS_MS + IDLE_GRACE_MS;
    };
    for (let i = 0; i < cl.at.length; i++) {
      passedOf.set(
        `${probe.keys[cl.key[i] as number]}#${cl.openTime[i]}#${intervalName.get(cl.intervalMs[i] as number)}`,
        passedAt(i),
      );
    }
    const results: BenchResult[] = [];
    for (const s of samples) {
      const inWindow = (t: number) => t >= s.measureFrom && t < s.end;
      const added: number[] = [];
      const addedUnstalled: number[] = [];
      const addedAll: number[] = [];
      const appendToPublish: number[] = [];
      for (let i = 0; i < pr.at.length; i++) {
        if (!inWindow(pr.at[i] as number)) continue;
        addedAll.push(pr.fromReceipt[i] as number);
        if (pr.inBatch[i] === 2) {
          added.push(pr.fromReceipt[i] as number);
          if ((pr.waitMs[i] as number) < 1) addedUnstalled.push(pr.fromReceipt[i] as number);
          appendToPublish.push(pr.fromAppend[i] as number);
        }
      }
      // Where the slow ones fall in the minute: windows close at its seconds 2 (a market's own
      // trade, the out-of-orderness later) and 7 (the partition watermark, the idle grace later).
      const slowBySecond = new Map<number, number>();
      let slow = 0;
      for (let i = 0; i < pr.at.length; i++) {
        if (!inWindow(pr.at[i] as number) || pr.inBatch[i] !== 2 || (pr.fromReceipt[i] as number) <= 10) continue;
        const second = Math.floor(((pr.at[i] as number) % 60_000) / 1000);
        slowBySecond.set(second, (slowBySecond.get(second) ?? 0) + 1);
        slow++;
      }
      const slowSeconds = [...slowBySecond]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([sec, n]) => `:${String(sec).padStart(2, '0')} ${n}`)
        .join(', ');
      const lastPrice: number[] = [];
      const lastPriceOwn: number[] = [];
      for (const a of arrivals) {
        if (!inWindow(a.at)) continue;
        const p = appendOf.get(`${a.key}#${a.id}`);
        if (p === undefined) continue;
        lastPrice.push(a.at - p.append);
        if (p.own) lastPriceOwn.push(a.at - p.append);
      }
      const partialAppend: number[] = [];
      const partialReceipt: number[] = [];
      const kafkaLeg: number[] = [];
      const pa = probe.partials;
      for (let i = 0; i < pa.at.length; i++) {
        if (!inWindow(pa.at[i] as number)) continue;
        partialAppend.push(pa.fromAppend[i] as number);
        partialReceipt.push(pa.fromReceipt[i] as number);
        kafkaLeg.push((pa.fromAppend[i] as number) - (pa.fromReceipt[i] as number));
      }
      const closedPublish: number[] = [];
      const closedByTick: number[] = [];
      for (let i = 0; i < cl.at.length; i++) {
        if (!inWindow(cl.at[i] as number)) continue;
        if (cl.inBatch[i] === 1) closedPublish.push((cl.at[i] as number) - passedAt(i));
        else closedByTick.push(cl.fromWatermark[i] as number);
      }
      const closedNats: number[] = [];
      for (const c of closedArrivals) {
        const passed = passedOf.get(c.key);
        if (inWindow(c.at) && passed !== undefined) closedNats.push(c.at - passed);
      }
      // The worker's time per batch (processing and publishing) and per tick release.
      const b = probe.batches;
      let batchMs = 0;
      let emitMs = 0;
      let records = 0;
      let nBatches = 0;
      let updates = 0;
      const perBatch: number[] = [];
      const waits: number[] = [];
      for (let i = 0; i < b.at.length; i++) {
        if (!inWindow(b.at[i] as number)) continue;
        nBatches++;
        batchMs += b.ms[i] as number;
        emitMs += b.emitMs[i] as number;
        records += b.records[i] as number;
        updates += (b.prices[i] as number) + (b.partials[i] as number);
        perBatch.push(b.ms[i] as number);
        waits.push(b.waitMs[i] as number);
      }
      const t = probe.ticks;
      let tickMs = 0;
      let tickUpdates = 0;
      for (let i = 0; i < t.at.length; i++) {
        if (!inWindow(t.at[i] as number)) continue;
        tickMs += t.ms[i] as number;
        tickUpdates += (t.prices[i] as number) + (t.partials[i] as number);
      }
      const windowS = (s.end - s.measureFrom) / 1000;
      const achieved = s.sent / ((s.end - s.measureFrom + warmupMs) / 1000);
      results.push({
        name: `isolated (${named}) at ${fmt(s.rate)} trades/s: worker-added latency (receipt to publish of the price update), p99`,
        value: ms(quantile(sorted(added), 0.99)),
        unit: 'ms',
        details: {
          "worker-added, price updates published by their trade's own batch, ms p50 / p99": pq(added),
          'the same, batches that waited < 1 ms in the mailbox (no checkpoint in the way), ms p50 / p99':
            pq(addedUnstalled),
          'worker-added over 10 ms (own batch): count, and the seconds of the minute holding most': `${slow}: ${slowSeconds}`,
          'worker-added, every price update (rate-limited ones released by a tick included), ms p50 / p99':
            pq(addedAll),
          'last price: Kafka append to NATS delivery, every update, ms p50 / p99': pq(lastPrice),
          "last price: Kafka append to NATS delivery, updates published by their trade's own batch, ms p50 / p99":
            pq(lastPriceOwn),
          "last price: Kafka append to the publish call (updates published by their trade's own batch), ms p50 / p99":
            pq(appendToPublish),
          'partial candle: append to the first publish that includes the record, ms p50 / p99': pq(partialAppend),
          'partial candle: receipt to the first publish that includes the record, ms p50 / p99': pq(partialReceipt),
          'closed candle in a batch: the watermark passing the end (its trade, or end + 7 s) to the publish call, ms p50 / p99':
            pq(closedPublish),
          'closed candle: watermark passing the end to NATS delivery (batch and clock closes), ms p50 / p99':
            pq(closedNats),
          'closed candle by the clock watermark: end + 7 s to the publish call, ms p50 / p99': pq(closedByTick),
          'batch wait in the mailbox (receipt to processing) ms p50 / p99': pq(waits),
          "Kafka leg: append to the worker's receipt, per record, ms p50 / p99": pq(kafkaLeg),
          'producer send to Kafka ack ms p50 / p99': `${ms(quantile(s.acks, 0.5))} / ${ms(quantile(s.acks, 0.99))}`,
          'worker CPU, cores': s.workerCpu.toFixed(3),
          'worker trades in the window': s.trades,
          'rate achieved by the producer': `${fmt(achieved)} trades/s`,
          'worker busy in batches, share of the window': `${((100 * batchMs) / 1000 / windowS).toFixed(1)} %`,
          'batches / records / price+partial updates in batches': `${nBatches} / ${records} / ${updates}`,
          'batch time ms p50 / p99': pq(perBatch),
          'batch time per trade, µs (publishing excluded)': ms((1000 * (batchMs - emitMs)) / Math.max(1, s.trades)),
          'publish time per update in batches, µs (emit)': ms((1000 * emitMs) / Math.max(1, updates)),
          'tick releases: time / updates': `${ms(tickMs)} ms / ${tickUpdates}`,
          'worker CPU per trade, µs (whole process)': ms((1e6 * s.workerCpu * windowS) / Math.max(1, s.trades)),
          'machine busy (both cores)': s.busy,
          'load average at the end': s.load,
          worker: `${policy}; ${affinity}`,
          'worker CPU by thread since start, s': threadCpu(pid),
          window: `${measureMs / 1000} s after ${warmupMs / 1000} s of warm-up`,
          ...(profiles.length > 0 && s.rate === 5_000 ? { 'CPU profile': profiles.join(', ') } : {}),
        },
      });
    }
    return results;
  } finally {
    await load?.thread.terminate();
    await stopWorker(proc);
    await cleanup(env, kafka, topics, schema, `tickmesh:*:sim:${prefix}*`);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// scale-out

async function scaleout(env: Endpoints, quick: boolean): Promise<BenchResult[]> {
  const list = rates('200,5000,20000');
  const warmupMs = quick ? 2_000 : 5_000;
  const measureMs = Number(process.env.TICKMESH_BENCH_LATENCY_MEASURE_MS) || (quick ? 5_000 : 20_000);
  const results: BenchResult[] = [];
  const layouts: Array<{ name: string; partitions: string[] }> = [
    { name: 'one worker, 8 partitions', partitions: ['all'] },
    { name: 'two workers, 4 partitions each', partitions: ['0,1,2,3', '4,5,6,7'] },
  ];
  for (const layout of layouts) {
    const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
    const prefix = `S${tag.toUpperCase()}N`;
    const topic = `bench-scaleout-${tag}`;
    const schema = `bench_scaleout_${tag}`;
    const kafka = new Kafka({
      clientId: 'bench-latency',
      brokers: env.KAFKA_BROKERS.split(','),
      logLevel: logLevel.NOTHING,
    });
    const topics = await createTopics(kafka, topic);
    const procs: { proc: WorkerProcess; port: number }[] = [];
    let load: ReturnType<typeof startLoad> | undefined;
    try {
      for (const partitions of layout.partitions) {
        const port = await freePort();
        const proc = await startWorkerProcess(
          env,
          [
            ...['--topic', topic, '--schema', schema, '--intervals', INTERVALS, '--port', String(port)],
            ...['--partitions', partitions, '--clock-watermark', 'true', '--partial-updates', 'true'],
            ...['--late-topic', `${topic}.late`, '--rejected-topic', `${topic}.rejected`],
          ],
          { prefix: ['taskset', '-c', '1'] },
        );
        // As the isolated scenario's `rt` variant: the other helpers on this machine would take
        // most of the core from a worker at normal priority.
        execFileSync('chrt', ['-f', '-p', '10', String(proc.child.pid)], { stdio: 'ignore' });
        procs.push({ proc, port });
      }
      load = startLoad(env, topic, benchMarkets(prefix, MARKETS));
      await load.next('ready');
      const workers = procs.map((p) => ({ pid: p.proc.child.pid as number, port: p.port }));
      const samples = await phases(load, workers, list, warmupMs, measureMs);
      load.thread.postMessage({ type: 'finish' } satisfies LoadCommand);
      await load.next('stamps');
      for (const s of samples) {
        const windowS = (s.end - s.measureFrom) / 1000 + 0.3;
        results.push({
          name: `scale-out at ${fmt(s.rate)} trades/s, ${layout.name}: worker CPU per trade`,
          value: ms((1e6 * s.workerCpu * windowS) / Math.max(1, s.trades)),
          unit: 'CPU-µs',
          details: {
            'worker CPU, cores (all workers)': s.workerCpu.toFixed(3),
            'trades per second counted': fmt(s.trades / windowS),
            'worker trades in the window': s.trades,
            'machine busy (both cores)': s.busy,
            'load average at the end': s.load,
            window: `${measureMs / 1000} s after ${warmupMs / 1000} s of warm-up`,
          },
        });
      }
    } finally {
      await load?.thread.terminate();
      await Promise.all(procs.map((p) => stopWorker(p.proc)));
      await cleanup(env, kafka, topics, schema, `tickmesh:*:sim:${prefix}*`);
    }
  }
  return results;
}

const bench: Bench = {
  name: 'latency',
  description:
    "the worker's own share of the latency, pinned to its own core (and real-time priority), and one worker " +
    'against two on the same load',
  async run({ quick }) {
    fixRequestQueueTimers();
    const env = await servers();
    const names = (process.env.TICKMESH_BENCH_LATENCY ?? 'isolated,scaleout').split(',');
    const results: BenchResult[] = [];
    {
      // This process (its load thread and subscriber included) on core 0, the workers on core 1.
      execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
      const restore = process.env.TICKMESH_BENCH_PIN_SERVERS === '1' ? pinServers('0') : undefined;
      const onSignal = () => {
        restore?.();
        process.exit(130);
      };
      process.once('SIGINT', onSignal);
      try {
        if (names.includes('isolated'))
          for (const variant of (process.env.TICKMESH_BENCH_LATENCY_VARIANTS ?? 'pinned,rt').split(','))
            results.push(...(await isolated(env, quick, variant)));
        if (names.includes('scaleout')) results.push(...(await scaleout(env, quick)));
      } finally {
        restore?.();
        process.off('SIGINT', onSignal);
        execFileSync('taskset', ['-a', '-p', '-c', '0,1', String(process.pid)], { stdio: 'ignore' });
      }
    }
    return results;
  },
};

export default bench;
