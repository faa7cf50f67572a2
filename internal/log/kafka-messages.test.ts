import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyPartitioner, MessageBuilder } from './kafka-messages.js';
import type { Headers, OutgoingRecord } from './log.js';
import { TRADE_HEADERS } from './record.js';

function metadata(partitions: number) {
  return Array.from({ length: partitions }, (_, i) => ({
    partitionId: i,
    leader: i === 1 ? -1 : 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
}

describe('keyPartitioner', () => {
  it('places every key where kafkajs DefaultPartitioner does, whatever the partition count', () => {
    const ours = keyPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(fc.string({ maxLength: 60, unit: 'grapheme' }), fc.integer({ min: 1, max: 64 }), (key, n) => {
        const partitionMetadata = metadata(n);
        const expected = theirs({ topic: 't', partitionMetadata, message: { key, value: null } });
        const got = ours({ topic: 't', partitionMetadata, message: { key: Buffer.from(key), value: null } });
        expect(got).toBe(expected);
      }),
    );
  });

  it('leaves explicit partitions and keyless records to kafkajs', () => {
    const ours = keyPartitioner();
    const partitionMetadata = metadata(8);
    expect(ours({ topic: 't', partitionMetadata, message: { key: Buffer.from('k'), value: null, partition: 5 } })).toBe(
      5,
    );
    const keyless = ours({ topic: 't', partitionMetadata, message: { value: null } });
    expect(keyless).toBeGreaterThanOrEqual(0);
    expect(keyless).toBeLessThan(8);
  });
});

describe('MessageBuilder', () => {
  const record = (key: string, headers?: Headers): OutgoingRecord => ({
    key,
    value: Buffer.from(key),
    ...(headers ? { headers } : {}),
  });

  it('makes each key and headers object once and shares them between records', () => {
    const b = new MessageBuilder();
    const own = { 'x-a': 'é' };
    const [m1, m2, m3, m4] = b.messages(
      [
        record('binance:BTCUSDT', TRADE_HEADERS),
        record('binance:BTCUSDT', TRADE_HEADERS),
        record('kraken:é', own),
        record('k'),
      ],
      {},
    );
    expect(m1?.key).toEqual(Buffer.from('binance:BTCUSDT'));
    expect(m2?.key).toBe(m1?.key);
    expect(m2?.headers).toBe(m1?.headers);
    expect(m1?.headers).toEqual({ 'tm-schema': Buffer.from('trade.v1') });
    expect(m3?.key).toEqual(Buffer.from('kraken:é', 'utf8'));
    expect(m3?.headers).toEqual({ 'x-a': Buffer.from('é', 'utf8') });
    expect(m4?.headers).toBeUndefined();
    expect(m1?.value).toEqual(Buffer.from('binance:BTCUSDT'));
    // A later call reuses what an earlier one made.
    const [again] = b.messages([record('binance:BTCUSDT', TRADE_HEADERS)], {});
    expect(again?.key).toBe(m1?.key);
    expect(again?.headers).toBe(m1?.headers);
  });

  it('adds the trace context to every record without touching the cached headers', () => {
    const b = new MessageBuilder();
    const [plain] = b.messages([record('a', TRADE_HEADERS)], {});
    const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    const [t1, t2, t3] = b.messages([record('a', TRADE_HEADERS), record('b', TRADE_HEADERS), record('c')], trace);
    expect(t1?.headers).toEqual({ 'tm-schema': Buffer.from('trade.v1'), traceparent: Buffer.from(trace.traceparent) });
    expect(t2?.headers).toBe(t1?.headers);
    expect(t3?.headers).toEqual({ traceparent: Buffer.from(trace.traceparent) });
    expect(plain?.headers).toEqual({ 'tm-schema': Buffer.from('trade.v1') });
    const [after] = b.messages([record('a', TRADE_HEADERS)], {});
    expect(after?.headers).toEqual({ 'tm-schema': Buffer.from('trade.v1') });
  });

  it('accepts a value that is a view into a larger array', () => {
    const backing = new Uint8Array([9, 1, 2, 3, 9]);
    const [m] = new MessageBuilder().messages([{ key: 'k', value: backing.subarray(1, 4) }], {});
    expect(m?.value).toEqual(Buffer.from([1, 2, 3]));
  });
});
