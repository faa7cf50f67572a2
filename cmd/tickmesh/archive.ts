import { once } from 'node:events';
import type { ArchiveStore } from '../../internal/archive/archive-store.js';
import { createArchiver } from '../../internal/archive/archiver.js';
import { createDuckDbParquetWriter } from '../../internal/archive/duckdb-parquet-writer.js';
import { openLocalArchiveStore } from '../../internal/archive/local-archive-store.js';
import { openS3ArchiveStore } from '../../internal/archive/s3-archive-store.js';
import { ARCHIVE_HELP, type ArchiveConfig, parseArchiveConfig } from '../../internal/config/archive.js';
import { awaitTopics } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import { startProbeServer } from '../../internal/observe/http-server.js';
import { createLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import type { Command } from './command.js';

function openStore(config: ArchiveConfig): Promise<ArchiveStore> {
  const t = config.target;
  return t.kind === 'dir' ? openLocalArchiveStore(t.dir) : openS3ArchiveStore(t);
}

/**
 * Archives until `signal` aborts, then drains: writes every open window, so that the next start
 * resumes after it. Exit code 0 after a clean drain, 1 when archiving stopped on an error.
 */
async function runArchive(config: ArchiveConfig, signal: AbortSignal): Promise<number> {
  const logger = createLogger({ level: config.logLevel }).child({ role: 'archive' });
  const registry = createRegistry({ role: 'archive' });
  let notReady: () => string | undefined = () => 'starting';
  const probes = await startProbeServer(
    { registry, healthy: () => true, notReadyReason: () => notReady() },
    config.metricsPort,
  );
  const kafka = { brokers: config.kafkaBrokers, security: config.kafkaSecurity, logger };
  const counts = await awaitTopics(
    { ...kafka, clientId: `${config.clientId}-admin`, quiet: true },
    { topics: [config.tradesTopic], logger, signal },
  );
  const partitions = counts?.get(config.tradesTopic);
  if (partitions === undefined) {
    await probes.close();
    return 0;
  }
  const store = await openStore(config);
  const writer = await createDuckDbParquetWriter();
  const consumer = await createKafkaConsumer({ ...kafka, clientId: config.clientId, topic: config.tradesTopic });
  const archiver = createArchiver({
    consumer,
    partitions,
    store,
    writer,
    logger,
    registry,
    policy: { rollMs: config.rollMs, maxTrades: config.maxWindowTrades },
    graceMs: config.graceMs,
  });
  notReady = archiver.notReadyReason;
  let code = 0;
  try {
    await archiver.start(signal);
    logger.info({ location: store.location, partitions, metricsPort: probes.port }, 'archive started');
    await Promise.race([archiver.done, signal.aborted ? undefined : once(signal, 'abort')]);
    logger.info('draining');
    await archiver.drain();
  } catch (err) {
    logger.error({ err }, 'archive failed');
    code = 1;
  } finally {
    await archiver.close();
    await consumer.close().catch((err: unknown) => logger.error({ err }, 'consumer close failed'));
    await writer.close();
    await store.close();
    await probes.close();
  }
  logger.info({ code }, 'archive stopped');
  return code;
}

export const archiveCommand: Command = {
  name: 'archive',
  help: ARCHIVE_HELP,
  run: async (argv, signal) => runArchive(parseArchiveConfig(argv, process.env), signal),
};
