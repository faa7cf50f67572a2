import { promisify } from 'node:util';
import zlib from 'node:zlib';
import kafkajs from 'kafkajs';

// A property of kafkajs's CommonJS exports that Node's ESM loader does not see as a named export.
const { CompressionCodecs, CompressionTypes } = kafkajs;

/**
 * Kafka's zstd codec for kafkajs, on Node's built-in zstd (node:zlib, Node 22.15 and later).
 *
 * kafkajs ships gzip only and takes other codecs in its process-wide `CompressionCodecs` table.
 * gzip was most of ingest's CPU once records carried trade batches, several times zstd level 1's
 * cost at a similar ratio (figures in docs/BENCHMARKS.md), and every worker decoded it again. The
 * table is filled when a tickmesh Kafka client is made (kafka-client.ts), not at import, and every
 * tickmesh reader of a topic is such a client. A reader outside tickmesh needs a zstd codec of its own; producers can
 * keep gzip with `--compression gzip`.
 *
 * Kafka accepts zstd from produce request v7 and serves it to fetch v10 and later; kafkajs uses
 * both (produce v7, fetch v11) with brokers from 2.1 on.
 */
const compress = promisify(zlib.zstdCompress);

/** Level 1: on trade batches it compresses as well as level 3, faster (docs/BENCHMARKS.md, fourth round). */
export const ZSTD_LEVEL = 1;

/**
 * Decompression is synchronous on purpose. kafkajs decodes the record batches of a fetch one
 * after another, awaiting each one's decompression: with the thread-pool version every record
 * batch cost a turn of the event loop, behind whatever else the worker had queued (its actors,
 * outputs, commits), so fetches spaced out and the worker's latency grew by an order of magnitude
 * (docs/BENCHMARKS.md, figures behind code comments). Decompressing a record batch (1 MiB at most)
 * in the caller's thread costs less than that wait. Compression stays in the thread pool, where it
 * runs beside ingest's busy main thread.
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
