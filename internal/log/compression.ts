/**
 * How the Kafka producers compress record batches, the default first. Apart from the adapter so
 * that parsing `--compression` does not load kafkajs (`tickmesh api` parses config and uses no Kafka).
 */
export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;

export type Compression = (typeof COMPRESSIONS)[number];
