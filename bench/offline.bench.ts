import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { sharedDataDir } from '../test/harness/shared-data.js';
import type { Bench, BenchResult } from './bench.js';
import { writeTardisFile } from './tardis-file.js';

/**
 * `tickmesh candles` (the command users run, as a child process: node, tsx, cmd/tickmesh/main.ts)
 * against DuckDB (bench/offline-duckdb.ts, also a child) on the same tardis trades files: 1m
 * candles, exact decimals, CSV parsing included. For each file: trades per second of each
 * (whole process, and past the start-up measured on a header-only file), CPU seconds and peak
 * RSS (/usr/bin/time), and the check that every non-empty candle's open, high, low, close,
 * volume, quote volume, count and taker-buy amounts are equal. tickmesh also prints the empty
 * minutes between trades; DuckDB's GROUP BY has no row for them.
 *
 * Files are generated once into the temp dir and kept. Environment:
 * - TICKMESH_BENCH_OFFLINE_LARGE: trades in the large files (default 20,000,000);
 * - TICKMESH_BENCH_OFFLINE_BASE: another checkout of tickmesh (with node_modules) whose
 *   `tickmesh candles` runs beside this one on every file, its output compared byte for byte:
 *   before and after a change, in the same run.
 */
const ROOT = resolve(import.meta.dirname, '..');
const DIR = join(tmpdir(), 'tickmesh-offline-bench');
const REAL = join(sharedDataDir(), 'binance-um-btcusdt-2020-02-22', 'trades.csv');
const HEADER = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n';

export interface Measured {
  readonly wallS: number;
  readonly cpuS: number;
  readonly rssMb: number;
}

/** Runs `argv` under /usr/bin/time with stdout to `out`; its own stderr is kept for errors. */
async function timed(argv: readonly string[], cwd: string, out: string): Promise<Measured & { stdout: string }> {
  const timeFile = `${out}.time`;
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, ...argv], {
    cwd,
    stdio: ['ignore', openSync(out, 'w'), 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${argv.join(' ')} exited ${code}: ${stderr.slice(-2_000)}`);
  const [wall, user, sys, rssKb] =
    readFileSync(timeFile, 'utf8').trim().split('\n').pop()?.split(' ').map(Number) ?? [];
  return {
    wallS: wall as number,
    cpuS: (user as number) + (sys as number),
    rssMb: (rssKb as number) / 1024,
    stdout: readFileSync(out, 'utf8').slice(0, 1_000),
  };
}

export function tickmesh(checkout: string, input: string, output: 'csv' | 'jsonl', out: string) {
  const argv = ['candles', '--input', input, '--format', 'tardis', '--output', output];
  return timed([process.execPath, '--import', 'tsx', 'cmd/tickmesh/main.ts', ...argv], checkout, out);
}

export function duckdb(input: string, threads: number, out: string) {
  return timed(
    [process.execPath, '--import', 'tsx', 'bench/offline-duckdb.ts', input, out, String(threads)],
    ROOT,
    out,
  );
}

/** One candle's figures as comparable text: decimals without trailing zeros. */
type Row = string;
const canonical = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);

/** Non-empty candles by `symbol openTime`, from tickmesh's kline CSV (one symbol) or JSON lines. */
export function tickmeshCandles(path: string, output: 'csv' | 'jsonl', symbol: string): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.length === 0) continue;
    if (output === 'csv') {
      const f = line.split(',');
      if (f[8] === '0') continue;
      const figures = [f[1], f[2], f[3], f[4], f[5], f[7], f[8], f[9], f[10]] as string[];
      rows.set(`${symbol} ${f[0]}`, figures.map(canonical).join(','));
    } else {
      const c = JSON.parse(line) as Record<string, string | number>;
      if (c.trades === 0) continue;
      const keys = ['open', 'high', 'low', 'close', 'volume', 'quoteVolume', 'trades', 'takerBuyVolume'];
      const figures = [...keys, 'takerBuyQuoteVolume'].map((k) => canonical(String(c[k])));
      rows.set(`${c.symbol} ${c.openTime}`, figures.join(','));
    }
  }
  return rows;
}

export function duckdbCandles(path: string): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.length === 0) continue;
    const f = line.split(',');
    rows.set(`${f[0]} ${f[1]}`, f.slice(2).map(canonical).join(','));
  }
  return rows;
}

/** Throws on the first candle that differs; returns how many were compared. */
export function compare(mine: Map<string, Row>, theirs: Map<string, Row>, label: string): number {
  if (mine.size !== theirs.size) throw new Error(`${label}: tickmesh has ${mine.size} candles, DuckDB ${theirs.size}`);
  for (const [key, row] of theirs) {
    if (mine.get(key) !== row) throw new Error(`${label}: candle ${key}: tickmesh ${mine.get(key)}, DuckDB ${row}`);
  }
  return mine.size;
}

export interface FileCase {
  readonly label: string;
  readonly path: string;
  readonly trades: number;
  readonly output: 'csv' | 'jsonl';
  readonly symbol: string;
}

export async function generated(trades: number, markets: number, gzip: boolean): Promise<FileCase> {
  await mkdir(DIR, { recursive: true });
  // One market at 100 trades/s of event time; 1,000 markets (Zipf) at 10,000 trades/s.
  const rate = markets === 1 ? 100 : 10_000;
  const csv = join(DIR, `tardis-${markets}m-${trades}.csv`);
  if (!existsSync(csv)) {
    await writeTardisFile({ path: `${csv}.part`, trades, markets, ratePerSecond: rate });
    renameSync(`${csv}.part`, csv);
  }
  let path = csv;
  if (gzip) {
    path = `${csv}.gz`;
    if (!existsSync(path)) {
      await pipeline(createReadStream(csv), createGzip(), createWriteStream(`${path}.part`));
      renameSync(`${path}.part`, path);
    }
  }
  const count = trades.toLocaleString('en-US');
  return {
    label: `${markets === 1 ? '1 market' : `${markets.toLocaleString('en-US')} markets`}, ${count} trades${gzip ? ', gzip' : ''}`,
    path,
    trades,
    output: markets === 1 ? 'csv' : 'jsonl',
    symbol: 'BTCUSDT',
  };
}

const perSecond = (n: number, s: number): number => Math.round(n / Math.max(s, 1e-3));

const bench: Bench = {
  name: 'offline',
  description:
    'tickmesh candles vs DuckDB on the same tardis trades files: 1m candles, exact decimals, ' +
    'parsing included; child processes, peak RSS from /usr/bin/time',
  async run({ quick }): Promise<readonly BenchResult[]> {
    const small = quick ? 200_000 : 2_000_000;
    const large = quick ? 1_000_000 : Number(process.env.TICKMESH_BENCH_OFFLINE_LARGE ?? 20_000_000);
    const base = process.env.TICKMESH_BENCH_OFFLINE_BASE;
    const cases: FileCase[] = [
      { label: 'real BTCUSDT 2020-02-22', path: REAL, trades: 9_999, output: 'csv', symbol: 'BTCUSDT' },
      await generated(small, 1, false),
      await generated(small, 1, true),
      await generated(small, 1_000, false),
      await generated(large, 1, false),
      await generated(large, 1_000, false),
    ];
    const work = join(DIR, `run-${process.pid}`);
    await mkdir(work, { recursive: true });
    const results: BenchResult[] = [];
    try {
      const empty = join(work, 'empty.csv');
      writeFileSync(empty, HEADER);
      const startTickmesh = await tickmesh(ROOT, empty, 'csv', join(work, 'start-t.out'));
      const startDuckdb = await duckdb(empty, 1, join(work, 'start-d.out'));
      results.push({
        name: 'start-up on a header-only file',
        value: startTickmesh.wallS,
        unit: 's (tickmesh)',
        details: {
          'tickmesh cpu s': startTickmesh.cpuS.toFixed(2),
          'tickmesh peak RSS MB': startTickmesh.rssMb.toFixed(0),
          'DuckDB wall s': startDuckdb.wallS.toFixed(2),
          'DuckDB cpu s': startDuckdb.cpuS.toFixed(2),
          'DuckDB peak RSS MB': startDuckdb.rssMb.toFixed(0),
        },
      });
      for (const c of cases) {
        const mineOut = join(work, 'tickmesh.out');
        const mine = await tickmesh(ROOT, c.path, c.output, mineOut);
        const candles = tickmeshCandles(mineOut, c.output, c.symbol);
        const runs: [string, Measured, number][] = [['tickmesh candles', mine, startTickmesh.wallS]];
        if (base !== undefined) {
          const baseOut = join(work, 'base.out');
          const before = await tickmesh(base, c.path, c.output, baseOut);
          if (readFileSync(baseOut, 'utf8') !== readFileSync(mineOut, 'utf8')) {
            throw new Error(`${c.label}: the base checkout's output differs from this one's`);
          }
          runs.push([`tickmesh candles at ${base}`, before, startTickmesh.wallS]);
        }
        let compared = 0;
        for (const threads of [1, 2]) {
          const out = join(work, `duckdb-${threads}.csv`);
          const d = await duckdb(c.path, threads, out);
          compared = compare(candles, duckdbCandles(out), c.label);
          runs.push([`DuckDB, ${threads} thread${threads > 1 ? 's' : ''}`, d, startDuckdb.wallS]);
        }
        for (const [who, m, start] of runs) {
          results.push({
            name: `${c.label}: ${who}`,
            value: perSecond(c.trades, m.wallS),
            unit: 'trades/s',
            details: {
              'wall s': m.wallS.toFixed(2),
              'cpu s': m.cpuS.toFixed(2),
              'trades/s past start-up': perSecond(c.trades, m.wallS - start),
              'trades/s of CPU': perSecond(c.trades, m.cpuS),
              'peak RSS MB': m.rssMb.toFixed(0),
            },
          });
        }
        // A full run takes many minutes: each file's figures go to stderr as soon as they are measured.
        process.stderr.write(`offline: ${c.label}: ${JSON.stringify(runs.map(([who, m]) => [who, m]))}\n`);
        const duck1 = runs.find(([who]) => who === 'DuckDB, 1 thread')?.[1] as Measured;
        results.push({
          name: `${c.label}: tickmesh's wall time over DuckDB's (1 thread)`,
          value: Number((mine.wallS / duck1.wallS).toFixed(2)),
          unit: 'x',
          details: { 'non-empty candles equal': compared, output: c.output, file: c.path },
        });
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return results;
  },
};

export default bench;
