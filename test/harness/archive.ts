import { type ChildProcess, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Kafka } from 'kafkajs';
import { decodeTrades } from '../../internal/log/trade-batch.js';

/** A `tickmesh archive` child process (`node --import tsx cmd/tickmesh/main.ts archive ...`). */
export interface ArchiverProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

export function startArchiver(args: readonly string[], env: NodeJS.ProcessEnv = {}): ArchiverProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cmd/tickmesh/main.ts', 'archive', '--metrics-port', '0', '--log-level', 'info', ...args],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** Parquet files under `dir` (what a Hive glob reads), relative paths. */
export async function parquetFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.parquet') && !join(e.parentPath, e.name).includes('/.'))
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

/** A decimal string as DuckDB prints DECIMAL(38, 18). */
export function decimal18(s: string): string {
  const [int = '0', frac = ''] = s.split('.');
  return `${BigInt(int).toString()}.${frac.padEnd(18, '0')}`;
}

const SEP = '|';

/**
 * Every trade on `topic`, one line per trade in (partition, offset, position in record) order,
 * in the archive's terms: the Hive partitions and the file's columns.
 */
export async function topicTradeLines(kafka: Kafka, topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const want = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
  const lines: { p: number; o: bigint; i: number; line: string[] }[] = [];
  const consumer = kafka.consumer({ groupId: `${topic}-reader-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Set([...want].filter(([, end]) => end === 0n).map(([p]) => p));
  await new Promise<void>((resolve, reject) => {
    if (done.size === want.size) resolve();
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          const offset = BigInt(message.offset);
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
          for (const [i, t] of decodeTrades(message.value ?? Buffer.alloc(0), headers).entries()) {
            const at = new Date(t.eventTime).toISOString();
            lines.push({
              p: partition,
              o: offset,
              i,
              line: [
                String(partition),
                String(offset),
                String(i),
                t.exchange,
                t.symbol,
                at.slice(0, 10),
                String(Number(at.slice(11, 13))),
                t.market,
                t.tradeId,
                decimal18(t.price),
                decimal18(t.size),
                t.side,
                String(BigInt(Math.round(t.eventTime * 1000))),
                String(BigInt(Math.round(t.receiveTime * 1000))),
                String(t.simulated === true),
                String(t.tradeCount ?? 1),
              ],
            });
          }
          if (offset + 1n >= (want.get(partition) ?? 0n)) done.add(partition);
          if (done.size === want.size) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  lines.sort((a, b) => a.p - b.p || (a.o < b.o ? -1 : a.o > b.o ? 1 : a.i - b.i));
  return lines.map((l) => l.line.join(SEP));
}

/** The same lines read back from the archive's Parquet files under `dir` by DuckDB. */
export async function archiveTradeLines(dir: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    const glob = `${dir.replaceAll("'", "''")}/**/*.parquet`;
    const reader = await connection.runAndReadAll(`
      SELECT kafka_partition::VARCHAR, kafka_offset::VARCHAR, record_index::VARCHAR, exchange, symbol,
        date::VARCHAR, hour::INTEGER::VARCHAR, market, trade_id, price::VARCHAR, size::VARCHAR, side,
        epoch_us(event_time)::VARCHAR, epoch_us(receive_time)::VARCHAR, simulated::VARCHAR, trade_count::VARCHAR
      FROM read_parquet('${glob}', hive_partitioning = true, hive_types_autocast = false)
      ORDER BY kafka_partition, kafka_offset, record_index`);
    return reader.getRows().map((r) => r.join(SEP));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
