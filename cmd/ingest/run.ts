import { createIngestor } from '../../internal/ingest/ingestor.js';
import { createKafkaProducer } from '../../internal/log/kafka-producer.js';
import { startProbeServer } from '../../internal/observe/http-server.js';
import { createLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { otlpExporterFromEnv, startTracing } from '../../internal/observe/tracing.js';
import type { IngestConfig } from './config.js';

/**
 * Runs live ingest until `signal` aborts, then drains: stops taking frames, produces what was
 * received, waits for Kafka to acknowledge it. Exit code 0 after a clean drain, 1 when ingest
 * stopped on an error (Kafka refused a produce).
 */
export async function runIngest(config: IngestConfig, signal: AbortSignal): Promise<number> {
  const logger = createLogger({ level: config.logLevel }).child({ role: 'ingest' });
  const registry = createRegistry({ role: 'ingest' });
  const exporter = otlpExporterFromEnv(process.env);
  const tracing = startTracing({ serviceName: 'tickmesh-ingest', ...(exporter ? { exporter } : {}) });
  const producer = await createKafkaProducer({
    brokers: config.kafkaBrokers,
    clientId: config.clientId,
    logger,
    registry,
    compression: config.compression,
    maxBufferBytes: config.maxBufferBytes,
  });
  const ingestor = createIngestor({
    venues: config.venues,
    producer,
    logger,
    registry,
    topics: config.topics,
    feed: { staleAfterMs: config.staleAfterMs, pingIntervalMs: config.pingIntervalMs },
    maxBackfill: config.maxBackfill,
  });
  const probes = await startProbeServer(
    { registry, healthy: () => true, notReadyReason: () => ingestor.notReadyReason() },
    config.metricsPort,
  );
  logger.info({ metricsPort: probes.port, topics: config.topics, venues: config.venues.length }, 'ingest started');
  let code = 0;
  try {
    await ingestor.start(signal);
    await ingestor.done;
  } catch (err) {
    logger.error({ err }, 'ingest failed');
    code = 1;
  } finally {
    await producer.close().catch((err: unknown) => logger.error({ err }, 'producer close failed'));
    await probes.close();
    await tracing.shutdown();
  }
  logger.info({ code }, 'ingest stopped');
  return code;
}
