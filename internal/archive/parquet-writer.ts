import type { ArchiveRow } from './window.js';

/**
 * Writes one Parquet file of archive rows (the contract; duckdb-parquet-writer.ts is the adapter).
 *
 * The file's columns, in this order: market, trade_id, price and size as DECIMAL(38, 18) (exact:
 * the topic's decimal strings, never a float), side, event_time and receive_time as TIMESTAMP
 * (UTC, microseconds), simulated, trade_count, kafka_partition, kafka_offset, record_index; rows
 * in (kafka_offset, record_index) order. exchange, symbol, date and hour are the Hive partitions
 * of the file's path, not columns of the file.
 *
 * `write` creates `path` on the local file system, replacing it; the caller moves it into the
 * archive. Rows must fit the columns (window.ts's unarchivable() says which do not).
 */
export interface ParquetWriter {
  write(path: string, rows: readonly ArchiveRow[]): Promise<void>;
  close(): Promise<void>;
}
