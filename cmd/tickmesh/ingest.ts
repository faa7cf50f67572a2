import { ConfigError } from '../../internal/runtime/errors.js';
import { INGEST_HELP, parseIngestConfig } from '../ingest/config.js';
import { runIngest } from '../ingest/run.js';
import type { Command } from './command.js';

export const ingestCommand: Command = {
  name: 'ingest',
  help: INGEST_HELP,
  async run(argv, signal) {
    let config: ReturnType<typeof parseIngestConfig>;
    try {
      config = parseIngestConfig(argv, process.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`tickmesh ${err.message}\n`);
      return 2;
    }
    return runIngest(config, signal);
  },
};
