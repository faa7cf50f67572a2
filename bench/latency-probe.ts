import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import type { ActorOutput } from '../internal/actor/output.js';
import type { RecordBatch } from '../internal/log/log.js';
import { intervalMs } from '../internal/market/interval.js';
import { PartitionOutputs } from '../internal/worker/outputs.js';
import { PartitionRunner } from '../internal/worker/partition-runner.js';

/**
 * Bench-only timestamps inside a `tickmesh worker` process (bench/latency.bench.ts), loaded with
 * `node --import tsx --import ./bench/latency-probe.ts cmd/tickmesh/main.ts worker ...`. It wraps
 * three methods of the worker's classes and changes nothing they do:
 *
 * - PartitionRunner.enqueue: the worker's receipt of a fetched batch (wall clock);
 * - PartitionRunner.processRecords: the append and receipt time of each market's records, and the
 *   time the batch took (its outputs' publish included);
 * - PartitionOutputs.emit: the publish of prices, partial and closed candles, and its own time.
 *
 * Samples stay in memory until the bench asks over the IPC channel: `{ type: 'dump', file }`
 * writes them (one JSON document of plain number arrays), `{ type: 'profile', file, ms }` writes a
 * V8 CPU profile of the next `ms` milliseconds. The IPC channel is unref'd, so it never keeps the
 * worker alive.
 */

type Json = Record<string, unknown>;

const now = (): number => performance.timeOrigin + performance.now();

/** Growable columns of numbers. */
class Columns {
  readonly cols: number[][];
  constructor(readonly names: readonly string[]) {
    this.cols = names.map(() => []);
  }
  push(...values: number[]): void {
    for (let i = 0; i < values.length; i++) (this.cols[i] as number[]).push(values[i] as number);
  }
  toJson(): Json {
    return Object.fromEntries(this.names.map((n, i) => [n, this.cols[i]]));
  }
}

interface KeyState {
  lastAppend: number;
  lastReceipt: number;
  /** The batch (a sequence number) that carried the market's latest record. */
  lastBatch: number;
  /** Append and receipt times of the records not yet in a published partial candle of the finest interval. */
  pending: number[];
}

const WATERMARK_LAG_MS =
  Number(process.env.TICKMESH_PROBE_WATERMARK_LAG_MS) || 2_000 /* out-of-orderness */ + 5_000; /* idle grace */
const FINEST = process.env.TICKMESH_PROBE_FINEST ?? '1m';

const receipts = new WeakMap<RecordBatch, number>();
const keys = new Map<string, KeyState>();
const keyIndex = new Map<string, number>();
/** Inside processRecords (a batch's own publish) rather than a tick's release. */
let inBatch = false;
/** Sequence number of the batch being processed, and its wait in the mailbox. */
let batchSeq = 0;
let batchWait = 0;

// Per price update: publish wall time, market index, last trade id, publish minus the receipt and
// minus the append of the record that carried the market's latest trade; `inBatch` 2 if that
// record's own batch published it, 1 if a later batch did (a rate-limited or held update released
// by its sweep), 0 if a tick did.
// `waitMs`: how long the publishing batch waited in the mailbox (a checkpoint in flight holds it).
const prices = new Columns(['at', 'key', 'tradeId', 'fromReceipt', 'fromAppend', 'inBatch', 'waitMs']);
// Per record: the publish of the first partial candle (finest interval) that includes it.
const partials = new Columns(['at', 'fromReceipt', 'fromAppend']);
// Per closed candle: its market, open time and interval, and publish minus the moment the
// watermark passed the window's end. Closed with a batch: the append of the market's latest record
// in it (the trade that moved the market's watermark, its event time minus the out-of-orderness,
// past the end). Closed by a tick (the clock watermark of a quiet market): the end plus the
// clock watermark's lag, the moment the clock passed it.
const closed = new Columns(['at', 'key', 'openTime', 'intervalMs', 'fromWatermark', 'inBatch']);
// Per processed batch: start, its wait in the mailbox (receipt to start), its time (emit
// included), its emit's time, records, price and partial updates.
const batches = new Columns(['at', 'waitMs', 'ms', 'emitMs', 'records', 'prices', 'partials']);
// Per emit outside a batch (tick releases): start, time, price and partial updates.
const ticks = new Columns(['at', 'ms', 'prices', 'partials']);

let emitMs = 0;

function keyOf(key: string): KeyState {
  let s = keys.get(key);
  if (s === undefined) {
    s = { lastAppend: Number.NaN, lastReceipt: Number.NaN, lastBatch: -1, pending: [] };
    keys.set(key, s);
    keyIndex.set(key, keyIndex.size);
  }
  return s;
}

type AnyFn = (...args: never[]) => unknown;
const runnerProto = PartitionRunner.prototype as unknown as Record<string, AnyFn>;
const outputsProto = PartitionOutputs.prototype as unknown as Record<string, AnyFn>;
for (const [proto, name] of [
  [runnerProto, 'enqueue'],
  [runnerProto, 'processRecords'],
  [outputsProto, 'emit'],
] as const) {
  if (typeof proto[name] !== 'function') throw new Error(`latency probe: the worker has no method ${name} to time`);
}

const enqueue = runnerProto.enqueue as unknown as (this: unknown, batch: RecordBatch, signal: AbortSignal) => unknown;
runnerProto.enqueue = function (this: unknown, batch: RecordBatch, signal: AbortSignal) {
  receipts.set(batch, now());
  return enqueue.call(this, batch, signal);
} as AnyFn;

const processRecords = runnerProto.processRecords as unknown as (
  this: unknown,
  batch: RecordBatch,
  first: unknown,
) => void;
runnerProto.processRecords = function (this: unknown, batch: RecordBatch, first: unknown) {
  const start = now();
  const receipt = receipts.get(batch) ?? start;
  batchSeq++;
  batchWait = start - receipt;
  for (const r of batch.records) {
    if (r.key === null) continue;
    const s = keyOf(r.key);
    s.lastAppend = r.timestamp;
    s.lastReceipt = receipt;
    s.lastBatch = batchSeq;
    s.pending.push(r.timestamp, receipt);
  }
  const pricesBefore = prices.cols[0]?.length ?? 0;
  const partialsBefore = partials.cols[0]?.length ?? 0;
  emitMs = 0;
  inBatch = true;
  try {
    processRecords.call(this, batch, first);
  } finally {
    inBatch = false;
  }
  batches.push(
    start,
    start - receipt,
    now() - start,
    emitMs,
    batch.records.length,
    (prices.cols[0]?.length ?? 0) - pricesBefore,
    (partials.cols[0]?.length ?? 0) - partialsBefore,
  );
} as AnyFn;

const emit = outputsProto.emit as unknown as (this: unknown, out: ActorOutput, ...rest: unknown[]) => void;
outputsProto.emit = function (this: unknown, out: ActorOutput, ...rest: unknown[]) {
  const at = now();
  let nPrices = 0;
  let nPartials = 0;
  for (const { candle: c } of out.prices) {
    const key = `${c.exchange}:${c.symbol}`;
    const s = keys.get(key);
    if (s === undefined) continue;
    prices.push(
      at,
      keyIndex.get(key) as number,
      Number(c.lastTradeId),
      at - s.lastReceipt,
      at - s.lastAppend,
      inBatch ? (s.lastBatch === batchSeq ? 2 : 1) : 0,
      inBatch ? batchWait : 0,
    );
    nPrices++;
  }
  for (const c of out.partial) {
    if (c.interval !== FINEST) continue;
    const s = keys.get(`${c.exchange}:${c.symbol}`);
    if (s === undefined) continue;
    const p = s.pending;
    for (let i = 0; i < p.length; i += 2) partials.push(at, at - (p[i + 1] as number), at - (p[i] as number));
    nPartials += p.length / 2;
    p.length = 0;
  }
  for (const c of out.closed) {
    const key = `${c.exchange}:${c.symbol}`;
    const s = keys.get(key);
    if (s === undefined) continue;
    const len = intervalMs(c.interval);
    const passed = inBatch ? s.lastAppend : c.openTime + len + WATERMARK_LAG_MS;
    closed.push(at, keyIndex.get(key) as number, c.openTime, len, at - passed, inBatch ? 1 : 0);
  }
  emit.call(this, out, ...rest);
  const ms = now() - at;
  if (inBatch) emitMs += ms;
  else ticks.push(at, ms, nPrices, nPartials);
} as AnyFn;

async function profile(file: string, ms: number): Promise<void> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((ok, fail) => session.post(method, params, (err, res) => (err ? fail(err) : ok(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  await new Promise((r) => setTimeout(r, ms));
  const { profile: p } = (await post('Profiler.stop')) as { profile: unknown };
  writeFileSync(file, JSON.stringify(p));
  session.disconnect();
}

process.on('message', (msg: { type: string; file: string; ms?: number }) => {
  if (msg.type === 'dump') {
    writeFileSync(
      msg.file,
      JSON.stringify({
        keys: [...keyIndex.keys()],
        prices: prices.toJson(),
        partials: partials.toJson(),
        closed: closed.toJson(),
        batches: batches.toJson(),
        ticks: ticks.toJson(),
      }),
    );
    process.send?.({ type: 'dumped', file: msg.file });
  } else if (msg.type === 'profile') {
    profile(msg.file, msg.ms ?? 10_000).then(
      () => process.send?.({ type: 'profiled', file: msg.file }),
      (err: unknown) => process.send?.({ type: 'profiled', file: msg.file, error: String(err) }),
    );
  }
});
process.channel?.unref();
