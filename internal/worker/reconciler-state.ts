import { decodeKlineRecord, encodeKlineRecord, type KlineRecord } from '../verify/kline-record.js';

/**
 * The klines partition's checkpoint state (VerificationCommit.state): the venue's latest push
 * of each window the reconciler holds and has not judged with it, as `kline.v1` records in one
 * JSON array. A restored reconciler gets them back before it reads on from the checkpoint's
 * offset, so a kline read before a crash still judges a candle that closes after it.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeReconcilerState(pushes: Iterable<KlineRecord>): Uint8Array {
  return encoder.encode(`[${[...pushes].map(encodeKlineRecord).join(',')}]`);
}

/** The pushes of a state; an empty state (none committed yet) has none. A record that does not read is skipped. */
export function decodeReconcilerState(state: Uint8Array): KlineRecord[] {
  if (state.length === 0) return [];
  const list = JSON.parse(decoder.decode(state)) as unknown;
  if (!Array.isArray(list)) throw new TypeError('reconciler state is not a JSON array');
  const out: KlineRecord[] = [];
  for (const item of list) {
    const r = decodeKlineRecord(JSON.stringify(item));
    if ('record' in r) out.push(r.record);
  }
  return out;
}
