import { DuckDBDecimalValue, DuckDBInstance, DuckDBTimestampValue } from '@duckdb/node-api';
import type { ParquetWriter } from './parquet-writer.js';

const SCALE = 18;
const WIDTH = 38;
const ZEROS = '0'.repeat(SCALE);

/** A decimal string that fits DECIMAL(38, 18) as its value times 10^18 (window.ts checked the fit). */
export function scaled18(s: string): bigint {
  const dot = s.indexOf('.');
  if (dot < 0) return BigInt(s + ZEROS);
  const fraction = s.slice(dot + 1);
  return BigInt(s.slice(0, dot) + fraction + ZEROS.slice(fraction.length));
}

/**
 * The ParquetWriter on DuckDB (in memory, one thread): rows go through its appender into a staging
 * table that has the file's column types (the decimals appended as scaled integers, which costs
 * less than DuckDB's cast from text), and COPY writes it as zstd-compressed Parquet. The choice
 * and its cost are in docs/BENCHMARKS.md (the archive writer).
 */
export async function createDuckDbParquetWriter(): Promise<ParquetWriter> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  await connection.run(`CREATE TABLE staging (
    market VARCHAR, trade_id VARCHAR, price DECIMAL(38, 18), size DECIMAL(38, 18), side VARCHAR,
    event_time TIMESTAMP, receive_time TIMESTAMP, simulated BOOLEAN, trade_count UINTEGER,
    kafka_partition INTEGER, kafka_offset BIGINT, record_index INTEGER)`);
  const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;
  return {
    async write(path, rows) {
      await connection.run('DELETE FROM staging');
      const appender = await connection.createAppender('staging');
      try {
        for (const r of rows) {
          appender.appendVarchar(r.market);
          appender.appendVarchar(r.tradeId);
          appender.appendDecimal(new DuckDBDecimalValue(scaled18(r.price), WIDTH, SCALE));
          appender.appendDecimal(new DuckDBDecimalValue(scaled18(r.size), WIDTH, SCALE));
          appender.appendVarchar(r.side);
          appender.appendTimestamp(new DuckDBTimestampValue(r.eventTimeUs));
          appender.appendTimestamp(new DuckDBTimestampValue(r.receiveTimeUs));
          appender.appendBoolean(r.simulated);
          appender.appendUInteger(r.tradeCount);
          appender.appendInteger(r.partition);
          appender.appendBigInt(r.offset);
          appender.appendInteger(r.index);
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      await connection.run(
        `COPY (SELECT * FROM staging ORDER BY kafka_offset, record_index) TO ${quote(path)} (FORMAT parquet, COMPRESSION zstd)`,
      );
    },
    async close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
