import { INGEST_HELP, parseIngestConfig } from '../../internal/config/ingest.js';
import { runIngest } from '../ingest/run.js';
import type { Command } from './command.js';

export const ingestCommand: Command = {
  name: 'ingest',
  help: INGEST_HELP,
  run: async (argv, signal) => runIngest(parseIngestConfig(argv, process.env), signal),
};
