import { EXPORT_HELP, type ExportConfig, parseExportConfig } from '../../internal/config/export.js';
import { COLUMNS, rangeQuery } from '../../internal/export/datasets.js';
import { writeExport } from '../../internal/export/exporter.js';
import { TickmeshError } from '../../internal/runtime/errors.js';
import { openCursor } from '../../internal/sink/postgres-cursor.js';
import type { Command } from './command.js';
import { progressBar } from './progress-bar.js';

/** Exit code 0 with the file complete; 1 when the database failed or a value does not fit the format. */
export async function runExport(config: ExportConfig, signal: AbortSignal): Promise<number> {
  const started = performance.now();
  const cursor = await openCursor(
    {
      connectionString: config.databaseUrl,
      security: config.postgresSecurity,
      schema: config.schema,
      applicationName: 'tickmesh-export',
    },
    rangeQuery(config.dataset, config.range),
    config.batchRows,
  );
  const bar = progressBar(config.quiet ? { write: () => true } : process.stderr, 'rows');
  try {
    const rows = await writeExport({
      source: cursor,
      columns: COLUMNS[config.dataset],
      format: config.format,
      output: config.output,
      stdout: process.stdout,
      onProgress: config.quiet ? undefined : (done, total) => bar.update(done, total),
      signal,
    });
    bar.done();
    process.stderr.write(
      `${JSON.stringify({ dataset: config.dataset, format: config.format, output: config.output, rows, elapsedMs: Math.round(performance.now() - started) })}\n`,
    );
    return 0;
  } catch (err) {
    bar.done();
    if (!(err instanceof TickmeshError)) throw err;
    process.stderr.write(`tickmesh export: ${err.message}\n`);
    return 1;
  } finally {
    await cursor.close();
  }
}

export const exportCommand: Command = {
  name: 'export',
  help: EXPORT_HELP,
  run: async (argv, signal) => runExport(parseExportConfig(argv, process.env), signal),
};
