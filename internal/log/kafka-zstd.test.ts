import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { registerZstd, zstdCodecs } from './kafka-zstd.js';

describe('zstd codec', () => {
  registerZstd();
  const codec = zstdCodecs.current();
  const records = Buffer.from(JSON.stringify(Array.from({ length: 2_000 }, (_, i) => ({ id: i, p: '96000.10' }))));

  it('round-trips a record batch and reads what any zstd encoder wrote', async () => {
    const packed = await codec.compress({ buffer: records });
    expect(packed.length).toBeLessThan(records.length / 4);
    expect(Buffer.compare(await codec.decompress(packed), records)).toBe(0);
    expect(Buffer.compare(await codec.decompress(zlib.zstdCompressSync(records)), records)).toBe(0);
  });

  it('decompresses without waiting for a turn of the event loop', async () => {
    // kafkajs awaits each record batch of a fetch in turn: a thread-pool decompression made every
    // one of them wait behind the worker's other work (docs/BENCHMARKS.md, worker latency).
    const packed = zlib.zstdCompressSync(records);
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    for (let i = 0; i < 50; i++) await codec.decompress(packed);
    expect(turned).toBe(false);
  });

  it('rejects a corrupt batch', async () => {
    const packed = zlib.zstdCompressSync(records);
    await expect(codec.decompress(packed.subarray(0, packed.length - 10))).rejects.toThrow();
  });
});
