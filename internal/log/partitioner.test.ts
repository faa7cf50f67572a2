import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from './partitioner.js';

// kafkajs's own partitioner: the reference this one must agree with byte for byte.
function kafkajsPartition(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({
    partitionId: i,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
}

describe('partitionForKey', () => {
  it('matches kafkajs for market keys of every tail length', () => {
    const keys = [
      'binance:BTCUSDT',
      'binance:ETHUSDT',
      'coinbase:BTC-USD',
      'kraken:BTC/USD',
      'binance-futures:BTCUSDT',
      'sim:SIM-1',
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'clé:€',
    ];
    for (const partitions of [1, 3, 12, 64]) {
      for (const key of keys)
        expect(partitionForKey(key, partitions), `${key}/${partitions}`).toBe(kafkajsPartition(key, partitions));
    }
  });

  it('matches kafkajs for arbitrary unicode keys', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 1, max: 256 }), (key, n) => {
        expect(partitionForKey(key, n)).toBe(kafkajsPartition(key, n));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with the Java client on published murmur2 vectors', () => {
    // Values from org.apache.kafka.common.utils.UtilsTest#testMurmur2.
    const vectors: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ];
    for (const [key, hash] of vectors) expect(murmur2(new TextEncoder().encode(key)), key).toBe(hash);
  });

  it('rejects a non-positive partition count', () => {
    expect(() => partitionForKey('k', 0)).toThrow(RangeError);
  });
});
