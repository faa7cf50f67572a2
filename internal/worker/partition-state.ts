import { InputError } from '../runtime/errors.js';

/**
 * The checkpointed state of one partition: every market actor's snapshot, keyed by the record
 * key (`<exchange>:<symbol>`), and the partition's event-time high-water mark.
 *
 * Layout (little-endian): u8 version (1, or 2 with jumps), f64 maxEventTime (-Infinity when
 * none), u32 count, then per market: u16 key byte length, key UTF-8, u32 snapshot length, snapshot
 * bytes; version 2 then has f64 swept, u32 jump count and per jump two f64 (from, to). Markets are written
 * in key order so that equal states encode to equal bytes.
 */
export interface PartitionState {
  readonly maxEventTime: number;
  readonly actors: ReadonlyMap<string, Uint8Array>;
  /**
   * Sweeps of the partition watermark longer than the actors' safe step, oldest first, kept while
   * a parked (evicted) actor is behind them: a returning actor replays them as they were.
   */
  readonly jumps?: ReadonlyArray<readonly [number, number]>;
  /** The highest watermark the partition swept its actors to (version 2; -Infinity in version 1). */
  readonly swept?: number;
}

const VERSION = 1;
const VERSION_JUMPS = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodePartitionState(state: PartitionState): Uint8Array {
  const keys = [...state.actors.keys()].sort();
  const encodedKeys = keys.map((k) => encoder.encode(k));
  const jumps = state.jumps ?? [];
  const v2 = jumps.length > 0 || state.swept !== undefined;
  let size = 1 + 8 + 4 + (v2 ? 8 + 4 + 16 * jumps.length : 0);
  keys.forEach((k, i) => {
    size += 2 + (encodedKeys[i] as Uint8Array).length + 4 + (state.actors.get(k) as Uint8Array).length;
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint8(0, v2 ? VERSION_JUMPS : VERSION);
  view.setFloat64(1, state.maxEventTime, true);
  view.setUint32(9, keys.length, true);
  let at = 13;
  keys.forEach((k, i) => {
    const kb = encodedKeys[i] as Uint8Array;
    const snap = state.actors.get(k) as Uint8Array;
    view.setUint16(at, kb.length, true);
    out.set(kb, at + 2);
    at += 2 + kb.length;
    view.setUint32(at, snap.length, true);
    out.set(snap, at + 4);
    at += 4 + snap.length;
  });
  if (v2) {
    view.setFloat64(at, state.swept ?? Number.NEGATIVE_INFINITY, true);
    view.setUint32(at + 8, jumps.length, true);
    at += 12;
    for (const [from, to] of jumps) {
      view.setFloat64(at, from, true);
      view.setFloat64(at + 8, to, true);
      at += 16;
    }
  }
  return out;
}

export function decodePartitionState(bytes: Uint8Array): PartitionState {
  const fail = (why: string): never => {
    throw new InputError('bad-checkpoint', `partition state: ${why}`);
  };
  if (bytes.length < 13) fail('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(0);
  if (version !== VERSION && version !== VERSION_JUMPS) fail(`unknown version ${version}`);
  const maxEventTime = view.getFloat64(1, true);
  const count = view.getUint32(9, true);
  const actors = new Map<string, Uint8Array>();
  let at = 13;
  for (let i = 0; i < count; i++) {
    if (at + 2 > bytes.length) fail('truncated key length');
    const kl = view.getUint16(at, true);
    if (at + 2 + kl + 4 > bytes.length) fail('truncated key');
    const key = decoder.decode(bytes.subarray(at + 2, at + 2 + kl));
    at += 2 + kl;
    const sl = view.getUint32(at, true);
    if (at + 4 + sl > bytes.length) fail('truncated snapshot');
    actors.set(key, bytes.slice(at + 4, at + 4 + sl));
    at += 4 + sl;
  }
  const jumps: Array<[number, number]> = [];
  let swept = Number.NEGATIVE_INFINITY;
  if (version === VERSION_JUMPS) {
    if (at + 12 > bytes.length) fail('truncated jump count');
    swept = view.getFloat64(at, true);
    const n = view.getUint32(at + 8, true);
    at += 12;
    if (at + 16 * n > bytes.length) fail('truncated jumps');
    for (let i = 0; i < n; i++, at += 16) jumps.push([view.getFloat64(at, true), view.getFloat64(at + 8, true)]);
  }
  if (at !== bytes.length) fail('trailing bytes');
  return { maxEventTime, actors, jumps, swept };
}
