import { InputError } from '../runtime/errors.js';

/**
 * The checkpointed state of one partition: every market actor's snapshot, keyed by the record
 * key (`<exchange>:<symbol>`), and the partition's event-time high-water mark.
 *
 * Layout (little-endian): u8 version = 1, f64 maxEventTime (-Infinity when none), u32 count,
 * then per market: u16 key byte length, key UTF-8, u32 snapshot length, snapshot bytes.
 * Markets are written in key order so that equal states encode to equal bytes.
 */
export interface PartitionState {
  readonly maxEventTime: number;
  readonly actors: ReadonlyMap<string, Uint8Array>;
}

const VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodePartitionState(state: PartitionState): Uint8Array {
  const keys = [...state.actors.keys()].sort();
  const encodedKeys = keys.map((k) => encoder.encode(k));
  let size = 1 + 8 + 4;
  keys.forEach((k, i) => {
    size += 2 + (encodedKeys[i] as Uint8Array).length + 4 + (state.actors.get(k) as Uint8Array).length;
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint8(0, VERSION);
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
  return out;
}

export function decodePartitionState(bytes: Uint8Array): PartitionState {
  const fail = (why: string): never => {
    throw new InputError('bad-checkpoint', `partition state: ${why}`);
  };
  if (bytes.length < 13) fail('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(0) !== VERSION) fail(`unknown version ${view.getUint8(0)}`);
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
  if (at !== bytes.length) fail('trailing bytes');
  return { maxEventTime, actors };
}
