import { promisify } from 'node:util';
import zlib from 'node:zlib';
import kafkajs from 'kafkajs';

// A property of kafkajs's CommonJS exports that Node's ESM loader does not see as a named export.
const { CompressionCodecs, CompressionTypes } = kafkajs;

/**
 * Kafka's zstd codec for kafkajs, on Node's built-in zstd (node:zlib, Node 22.15 and later).
 *
 * kafkajs ships gzip only and takes other codecs in its process-wide `CompressionCodecs` table.
 * gzip was most of ingest's CPU once records carried trade batches (about 2.2 µs a trade at its
 * default level, against 0.3 µs for zstd level 1 at a similar ratio: docs/BENCHMARKS.md), and
 * every worker decoded it again. The table is filled when a
 * tickmesh Kafka client is made (kafka-client.ts), not at import, and every tickmesh reader of a
 * topic is such a client. A reader outside tickmesh needs a zstd codec of its own; producers can
 * keep gzip with `--compression gzip`.
 *
 * Kafka accepts zstd from produce request v7 and serves it to fetch v10 and later; kafkajs uses
 * both (produce v7, fetch v11) with brokers from 2.1 on.
 */
const compress = promisify(zlib.zstdCompress);

/** Level 1: on trade batches it compressed as well as level 3 (3.64 against 3.55) at 1.3 times its speed. */
export const ZSTD_LEVEL = 1;

/**
 * Decompression is synchronous on purpose. kafkajs decodes the record batches of a fetch one
 * after another, awaiting each one's decompression: with the thread-pool version every record
 * batch cost a turn of the event loop, behind whatever else the worker had queued (its actors,
 * outputs, commits). In the latency bench a fetch then took 100-600 ms and the worker fetched
 * about four times a second; p50 from producer send to NATS partial fell from 1,119 to 121 ms at
 * 5,000 trades/s with this change (docs/BENCHMARKS.md). zstd decompresses at over 1 GB/s here: a
 * record batch (1 MiB at most) costs about a millisecond of the caller's thread, a trade tens of
 * nanoseconds. Compression (about 0.3 µs a trade) stays in the thread pool, where it runs beside
 * ingest's busy main thread.
 */
const codec = {
  /** `encoder.buffer` holds the uncompressed records of one batch. */
  compress: (encoder: { buffer: Buffer }): Promise<Buffer> =>
    compress(encoder.buffer, { params: { [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } }),
  decompress: async (buffer: Buffer): Promise<Buffer> => zlib.zstdDecompressSync(buffer),
};

export type Codec = typeof codec;

/** Makes kafkajs read and write zstd record batches in this process. Idempotent. */
export function registerZstd(): void {
  CompressionCodecs[CompressionTypes.ZSTD] = () => codec;
}

/** The codec kafkajs uses for zstd in this process (tests wrap it to count its calls). */
export const zstdCodecs = {
  current: (): Codec => (CompressionCodecs[CompressionTypes.ZSTD] as () => Codec)(),
  replace: (next: Codec): void => {
    CompressionCodecs[CompressionTypes.ZSTD] = () => next;
  },
};
