import { setTimeout as sleep } from 'node:timers/promises';
import { MODELS_HELP, type ModelsConfig, parseModelsConfig } from '../../internal/config/models.js';
import { createLogger } from '../../internal/observe/logger.js';
import { refreshModels } from '../../internal/sink/postgres-models.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import type { Command } from './command.js';

/** Once, or every `--every` seconds until stopped. Exit code 0; a failed refresh throws (exit 1). */
async function runModels(config: ModelsConfig, signal: AbortSignal): Promise<number> {
  const logger = createLogger({ level: config.logLevel, destination: process.stderr }).child({ role: 'models' });
  const options = {
    connectionString: config.databaseUrl,
    security: config.postgresSecurity,
    schema: config.schema,
    applicationName: 'tickmesh-models',
  };
  const store = createPostgresStore({ ...options, poolSize: 1 });
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  for (;;) {
    const refreshed = await refreshModels(options);
    logger.info({ schema: config.schema, refreshed }, 'models refreshed');
    if (config.every === undefined || signal.aborted) return 0;
    try {
      await sleep(config.every * 1000, undefined, { signal });
    } catch {
      return 0;
    }
  }
}

export const modelsCommand: Command = {
  name: 'models',
  help: MODELS_HELP,
  run: async (argv, signal) => runModels(parseModelsConfig(argv, process.env), signal),
};
