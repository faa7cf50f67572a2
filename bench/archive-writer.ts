import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createDuckDbParquetWriter } from '../internal/archive/duckdb-parquet-writer.js';
import type { ArchiveRow } from '../internal/archive/window.js';

/**
 * The trades archive's Parquet writer, measured in CPU time on one file of N rows
 * (`tsx bench/archive-writer.ts [N]`): the adapter as shipped (decimals appended as scaled
 * integers), the same with DuckDB casting VARCHAR decimals, and decimals kept as VARCHAR.
 */
const n = Number(process.argv[2] ?? 200_000);
const rows: ArchiveRow[] = Array.from({ length: n }, (_, i) => ({
  market: 'BTC-USDT',
  tradeId: String(1_000_000 + i),
  price: `43210.${String(i % 100).padStart(2, '0')}`,
  size: `0.00${123 + (i % 900)}`,
  side: i % 2 ? 'buy' : 'sell',
  eventTimeUs: 1_700_000_000_000_000n + BigInt(i) * 1000n,
  receiveTimeUs: 1_700_000_000_000_500n + BigInt(i) * 1000n,
  simulated: false,
  tradeCount: 1,
  partition: 3,
  offset: BigInt(i >> 3),
  index: i & 7,
}));
const cpuMs = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const out = join(tmpdir(), `archive-bench-${process.pid}.parquet`);

const writer = await createDuckDbParquetWriter();
await writer.write(out, rows.slice(0, 1000));
let t = cpuMs();
await writer.write(out, rows);
const shipped = cpuMs() - t;
await writer.close();

const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const c = await instance.connect();
await c.run(`CREATE TABLE s (market VARCHAR, trade_id VARCHAR, price VARCHAR, size VARCHAR, side VARCHAR,
  event_us BIGINT, receive_us BIGINT, simulated BOOLEAN, trade_count UINTEGER, kafka_partition INTEGER,
  kafka_offset BIGINT, record_index INTEGER)`);
t = cpuMs();
const a = await c.createAppender('s');
for (const r of rows) {
  a.appendVarchar(r.market);
  a.appendVarchar(r.tradeId);
  a.appendVarchar(r.price);
  a.appendVarchar(r.size);
  a.appendVarchar(r.side);
  a.appendBigInt(r.eventTimeUs);
  a.appendBigInt(r.receiveTimeUs);
  a.appendBoolean(r.simulated);
  a.appendUInteger(r.tradeCount);
  a.appendInteger(r.partition);
  a.appendBigInt(r.offset);
  a.appendInteger(r.index);
  a.endRow();
}
a.flushSync();
a.closeSync();
const appendText = cpuMs() - t;
t = cpuMs();
await c.run(`COPY (SELECT market, trade_id, price::DECIMAL(38, 18) price, size::DECIMAL(38, 18) size, side,
  make_timestamp(event_us) event_time, make_timestamp(receive_us) receive_time, simulated, trade_count,
  kafka_partition, kafka_offset, record_index FROM s ORDER BY kafka_offset, record_index)
  TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
const castCopy = cpuMs() - t;
t = cpuMs();
await c.run(
  `COPY (SELECT * FROM s ORDER BY kafka_offset, record_index) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`,
);
const textCopy = cpuMs() - t;
c.closeSync();
instance.closeSync();
await rm(out, { force: true });
const perRow = (ms: number) => Math.round((ms * 10_000) / n) / 10;
process.stdout.write(
  `${JSON.stringify({
    rows: n,
    shippedMs: Math.round(shipped),
    castFromTextMs: Math.round(appendText + castCopy),
    decimalsAsTextMs: Math.round(appendText + textCopy),
    usPerRow: {
      shipped: perRow(shipped),
      castFromText: perRow(appendText + castCopy),
      decimalsAsText: perRow(appendText + textCopy),
    },
  })}\n`,
);
