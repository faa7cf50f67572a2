import { InputError } from '../runtime/errors.js';

/**
 * The checkpointed state of one partition: the market actors' snapshots, keyed by the record
 * key (`<exchange>:<symbol>`), and the partition's event-time high-water mark.
 *
 * Layout (little-endian). Versions 1 and 2: u8 version, f64 maxEventTime (-Infinity when none),
 * u32 count, then per market: u16 key byte length, key UTF-8, u32 snapshot length, snapshot
 * bytes; version 2 then has f64 swept, u32 jump count and per jump two f64 (from, to).
 * Version 3: u8 3, f64 maxEventTime, f64 swept, u8 actorsInRows, u32 jump count and the jumps,
 * u32 fresh count and per fresh market its key (u16 length, UTF-8) and f64 owed watermark, then
 * the actors as in version 1. Markets are written in key order so that equal states encode to
 * equal bytes.
 */
export interface PartitionState {
  readonly maxEventTime: number;
  /** The snapshots, unless `actorsInRows` (then empty). */
  readonly actors: ReadonlyMap<string, Uint8Array>;
  /**
   * Sweeps of the partition watermark longer than the actors' safe step, oldest first, kept while
   * a parked (evicted) actor is behind them: a returning actor replays them as they were.
   */
  readonly jumps?: ReadonlyArray<readonly [number, number]>;
  /** The highest watermark the partition swept its actors to (-Infinity in version 1). */
  readonly swept?: number;
  /**
   * Version 3: the actors created since the last sweep that raised `swept`, with the highest
   * watermark swept since (what a restored one is owed instead of `swept`).
   */
  readonly fresh?: ReadonlyMap<string, number>;
  /** Version 3: the snapshots are the store's per-market rows (Store.actorStates), not in here. */
  readonly actorsInRows?: boolean;
}

const VERSION = 1;
const VERSION_JUMPS = 2;
const VERSION_ROWS = 3;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodePartitionState(state: PartitionState): Uint8Array {
  const keys = [...state.actors.keys()].sort();
  const encodedKeys = keys.map((k) => encoder.encode(k));
  const jumps = state.jumps ?? [];
  const v3 = state.fresh !== undefined || state.actorsInRows === true;
  const v2 = !v3 && (jumps.length > 0 || state.swept !== undefined);
  const fresh = [...(state.fresh ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const freshKeys = fresh.map(([k]) => encoder.encode(k));
  let size = 1 + 8 + 4;
  if (v2) size += 8 + 4 + 16 * jumps.length;
  if (v3) size += 8 + 1 + 4 + 16 * jumps.length + 4 + freshKeys.reduce((n, k) => n + 2 + k.length + 8, 0);
  keys.forEach((k, i) => {
    size += 2 + (encodedKeys[i] as Uint8Array).length + 4 + (state.actors.get(k) as Uint8Array).length;
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const u8 = (v: number) => view.setUint8(at++, v);
  const u32 = (v: number) => {
    view.setUint32(at, v, true);
    at += 4;
  };
  const f64 = (v: number) => {
    view.setFloat64(at, v, true);
    at += 8;
  };
  const key = (kb: Uint8Array) => {
    view.setUint16(at, kb.length, true);
    out.set(kb, at + 2);
    at += 2 + kb.length;
  };
  const writeJumps = () => {
    f64(state.swept ?? Number.NEGATIVE_INFINITY);
    if (v3) u8(state.actorsInRows ? 1 : 0);
    u32(jumps.length);
    for (const [from, to] of jumps) {
      f64(from);
      f64(to);
    }
  };
  u8(v3 ? VERSION_ROWS : v2 ? VERSION_JUMPS : VERSION);
  f64(state.maxEventTime);
  if (v3) {
    writeJumps();
    u32(fresh.length);
    fresh.forEach(([, owed], i) => {
      key(freshKeys[i] as Uint8Array);
      f64(owed);
    });
  }
  u32(keys.length);
  keys.forEach((k, i) => {
    const snap = state.actors.get(k) as Uint8Array;
    key(encodedKeys[i] as Uint8Array);
    u32(snap.length);
    out.set(snap, at);
    at += snap.length;
  });
  if (v2) writeJumps();
  return out;
}

export function decodePartitionState(bytes: Uint8Array): PartitionState {
  const fail = (why: string): never => {
    throw new InputError('bad-checkpoint', `partition state: ${why}`);
  };
  if (bytes.length < 13) fail('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number, what: string) => {
    if (at + n > bytes.length) fail(`truncated ${what}`);
  };
  const u8 = () => view.getUint8(at++);
  const u32 = (what: string) => {
    need(4, what);
    const v = view.getUint32(at, true);
    at += 4;
    return v;
  };
  const f64 = (what: string) => {
    need(8, what);
    const v = view.getFloat64(at, true);
    at += 8;
    return v;
  };
  const key = () => {
    need(2, 'key length');
    const kl = view.getUint16(at, true);
    need(2 + kl, 'key');
    const k = decoder.decode(bytes.subarray(at + 2, at + 2 + kl));
    at += 2 + kl;
    return k;
  };
  const version = u8();
  if (version !== VERSION && version !== VERSION_JUMPS && version !== VERSION_ROWS) fail(`unknown version ${version}`);
  const maxEventTime = f64('header');
  const jumps: Array<[number, number]> = [];
  let swept = Number.NEGATIVE_INFINITY;
  let actorsInRows = false;
  const readJumps = () => {
    swept = f64('jump count');
    if (version === VERSION_ROWS) {
      need(1, 'flags');
      actorsInRows = u8() === 1;
    }
    const n = u32('jump count');
    need(16 * n, 'jumps');
    for (let i = 0; i < n; i++) jumps.push([f64('jumps'), f64('jumps')]);
  };
  const fresh = new Map<string, number>();
  if (version === VERSION_ROWS) {
    readJumps();
    const n = u32('fresh count');
    for (let i = 0; i < n; i++) fresh.set(key(), f64('fresh'));
  }
  const count = u32('count');
  const actors = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    const k = key();
    const sl = u32('key');
    need(sl, 'snapshot');
    actors.set(k, bytes.slice(at, at + sl));
    at += sl;
  }
  if (version === VERSION_JUMPS) readJumps();
  if (at !== bytes.length) fail('trailing bytes');
  return version === VERSION_ROWS
    ? { maxEventTime, actors, jumps, swept, fresh, actorsInRows }
    : { maxEventTime, actors, jumps, swept };
}
