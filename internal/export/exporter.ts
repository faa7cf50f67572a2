import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { InputError } from '../runtime/errors.js';
import { csvLine } from './csv.js';
import { type Column, fitsDecimal } from './datasets.js';

export const EXPORT_FORMATS = ['parquet', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportSource {
  readonly total: number;
  batches(): AsyncIterable<readonly (string | null)[][]>;
}

export interface ExportDeps {
  readonly source: ExportSource;
  readonly columns: readonly Column[];
  readonly format: ExportFormat;
  /** A file path; for CSV, `-` is stdout. */
  readonly output: string;
  readonly stdout: Writable;
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal: AbortSignal;
}

async function put(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** Streams the rows as CSV (header first) into `out`; returns how many. */
async function writeCsv(deps: ExportDeps, out: Writable): Promise<number> {
  const decimals = deps.columns.flatMap((c, i) => (c.type === 'DECIMAL(38, 18)' ? [i] : []));
  await put(out, csvLine(deps.columns.map((c) => c.name)));
  let rows = 0;
  for await (const batch of deps.source.batches()) {
    deps.signal.throwIfAborted();
    let text = '';
    for (const row of batch) {
      for (const i of decimals) {
        const v = row[i];
        if (v !== null && v !== undefined && !fitsDecimal(v)) {
          throw new InputError(
            'decimal-out-of-range',
            `${deps.columns[i]?.name} ${v} does not fit DECIMAL(38, 18); export it as CSV, which keeps it as stored`,
          );
        }
      }
      text += csvLine(row);
    }
    await put(out, text);
    rows += batch.length;
    deps.onProgress?.(rows, deps.source.total);
  }
  return rows;
}

async function closeFile(out: Writable): Promise<void> {
  out.end();
  await once(out, 'close');
}

/**
 * Writes the source's rows to the output, streaming: CSV as it reads; Parquet through a CSV in a
 * temporary directory beside the output, which DuckDB converts with the columns' types (the
 * decimals exactly) into a file renamed into place when complete. Resolves with the row count.
 */
export async function writeExport(deps: ExportDeps): Promise<number> {
  if (deps.format === 'csv') {
    if (deps.output === '-') return writeCsv(deps, deps.stdout);
    const part = `${deps.output}.part`;
    const out = createWriteStream(part);
    try {
      const rows = await writeCsv(deps, out);
      await closeFile(out);
      await rename(part, deps.output);
      return rows;
    } catch (err) {
      out.destroy();
      await rm(part, { force: true });
      throw err;
    }
  }
  const dir = await mkdtemp(join(dirname(deps.output), '.tickmesh-export-'));
  try {
    const csv = join(dir, 'rows.csv');
    const out = createWriteStream(csv);
    let rows: number;
    try {
      rows = await writeCsv(deps, out);
    } finally {
      await closeFile(out);
    }
    const parquet = join(dir, 'rows.parquet');
    await csvToParquet(csv, parquet, deps.columns);
    await rename(parquet, deps.output);
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function csvToParquet(csv: string, parquet: string, columns: readonly Column[]): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;
  const types = columns.map((c) => `${quote(c.name)}: ${quote(c.type)}`).join(', ');
  const instance = await DuckDBInstance.create(':memory:', { threads: '1', temp_directory: dirname(csv) });
  const connection = await instance.connect();
  try {
    await connection.run(
      `COPY (SELECT * FROM read_csv(${quote(csv)}, header = true, delim = ',', quote = '"', escape = '"', ` +
        `allow_quoted_nulls = false, timestampformat = '%Y-%m-%d %H:%M:%S.%g', columns = {${types}})) ` +
        `TO ${quote(parquet)} (FORMAT parquet, COMPRESSION zstd)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
