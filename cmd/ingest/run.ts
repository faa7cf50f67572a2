import { once } from 'node:events';
import type { IngestConfig } from '../../internal/config/ingest.js';
import { createIngestor, type Ingestor } from '../../internal/ingest/ingestor.js';
import { type ProducedIds, readProducedIds } from '../../internal/ingest/resume.js';
import { createLogProducer } from '../../internal/log/create-producer.js';
import { awaitTopics, createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import { startProbeServer } from '../../internal/observe/http-server.js';
import { createLogger, type Logger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { otlpExporterFromEnv, startTracing } from '../../internal/observe/tracing.js';
import { ConfigError } from '../../internal/runtime/errors.js';
import { createStartupGate } from '../../internal/runtime/startup-gate.js';
import { startIngestContext } from './context.js';

/**
 * Runs live ingest until `signal` aborts, then drains (Ingestor.drain): stops taking frames,
 * produces what was received, waits for Kafka to acknowledge it. Exit code 0 after a clean drain, 1 when ingest
 * stopped on an error (Kafka refused a produce).
 */
export async function runIngest(config: IngestConfig, signal: AbortSignal): Promise<number> {
  const logger = createLogger({ level: config.logLevel }).child({ role: 'ingest' });
  const registry = createRegistry({ role: 'ingest' });
  const exporter = otlpExporterFromEnv(process.env);
  const tracing = startTracing({ serviceName: 'tickmesh-ingest', exporter });
  // The probes first: an unreachable Kafka shows as not Ready, with the reason on /readyz and in
  // one log line, while this process retries (StartupGate).
  const gate = createStartupGate({ logger, signal });
  let ingestor: Ingestor | undefined;
  const probes = await startProbeServer(
    { registry, healthy: () => true, notReadyReason: () => gate.reason() ?? ingestor?.notReadyReason() },
    config.metricsPort,
  );
  const klines = config.klineIntervals.length > 0;
  const topics = [
    config.topics.trades,
    config.topics.rejects,
    config.topics.gaps,
    ...(klines ? [config.topics.klines] : []),
  ];
  const kafka = {
    brokers: config.kafkaBrokers,
    security: config.kafkaSecurity,
    clientId: `${config.clientId}-admin`,
    logger,
    quiet: true,
  };
  const ready = await gate.until('kafka', () => awaitTopics(kafka, { topics, logger, signal }));
  if (!ready) {
    await probes.close();
    await tracing.shutdown();
    return 0;
  }
  // A market's klines must land in the partition number of its trades (the reconciler reads both there).
  const tradeCount = ready.get(config.topics.trades);
  const klineCount = ready.get(config.topics.klines);
  if (klines && tradeCount !== klineCount) {
    await probes.close();
    await tracing.shutdown();
    throw new ConfigError(
      `topic ${config.topics.klines} has ${klineCount} partitions, ${config.topics.trades} has ${tradeCount}: ` +
        "a market's klines must share its trades' partition number (tickmesh topics creates both alike; or --no-klines)",
    );
  }
  const producer = await createLogProducer(config.kafkaProducer, {
    brokers: config.kafkaBrokers,
    security: config.kafkaSecurity,
    clientId: config.clientId,
    logger,
    registry,
    compression: config.compression,
    maxBufferBytes: config.maxBufferBytes,
  });
  const resume = config.resumeTail > 0 ? await resumeFromLog(config, logger, signal) : undefined;
  ingestor = createIngestor({
    resume,
    venues: config.venues,
    producer,
    logger,
    registry,
    topics: config.topics,
    feed: {
      staleAfterMs: config.staleAfterMs,
      pingIntervalMs: config.pingIntervalMs,
      maxMessageBytes: config.maxMessageBytes,
      maxFragments: config.maxFragments,
      maxQueueBytes: config.maxQueueBytes,
    },
    maxBackfill: config.maxBackfill,
    maxEventSkewMs: config.maxEventSkewMs,
    klineIntervals: config.klineIntervals,
    tracer: tracing.enabled ? tracing.tracer : undefined,
    tradePartitions: ready.get(config.topics.trades),
    proxy: config.proxy,
  });
  gate.open();
  logger.info({ metricsPort: probes.port, topics: config.topics, venues: config.venues.length }, 'ingest started');
  const run = new AbortController();
  let code = 0;
  let context: Awaited<ReturnType<typeof startIngestContext>>;
  try {
    context = await startIngestContext(config, producer, logger, registry, run.signal);
    await ingestor.start(run.signal);
    // Until the command is told to stop, or ingest stops on its own (a refused produce); with
    // context sources alone there are no feeds to end, and only the signal stops them.
    const stopped = signal.aborted ? undefined : once(signal, 'abort');
    await (config.venues.length > 0 ? Promise.race([ingestor.done, stopped]) : stopped);
    logger.info('draining');
    await ingestor.drain();
    // Context sources finish the poll in flight.
    await context?.drain();
  } catch (err) {
    logger.error({ err }, 'ingest failed');
    code = 1;
  } finally {
    run.abort();
    await context?.close();
    await producer.close().catch((err: unknown) => logger.error({ err }, 'producer close failed'));
    await probes.close();
    await tracing.shutdown();
  }
  logger.info({ code }, 'ingest stopped');
  return code;
}

/** The trade ids already in the trades topic for this process's venues (internal/ingest/resume.ts). */
async function resumeFromLog(
  config: IngestConfig,
  logger: Logger,
  signal: AbortSignal,
): Promise<Map<string, ProducedIds>> {
  // Not the simulator: its ids start at 1 in every process, so old ids would drop new trades.
  const venues = new Set(config.venues.map((v) => v.venue).filter((v) => v !== 'sim'));
  if (venues.size === 0) return new Map();
  const options = {
    brokers: config.kafkaBrokers,
    security: config.kafkaSecurity,
    clientId: `${config.clientId}-resume`,
    logger,
  };
  const admin = await createKafkaAdmin(options);
  const ends = await admin
    .endOffsets(config.topics.trades)
    .catch((err: unknown) => {
      if (err instanceof ConfigError) return undefined;
      throw err;
    })
    .finally(() => admin.close());
  if (!ends || [...ends.values()].every((end) => end === 0n)) {
    logger.info({ topic: config.topics.trades }, 'nothing to resume: no trades in the log yet');
    return new Map();
  }
  const consumer = await createKafkaConsumer({ ...options, topic: config.topics.trades });
  try {
    return await readProducedIds({
      ends,
      consumer,
      topic: config.topics.trades,
      tail: config.resumeTail,
      wanted: (key) => venues.has(key.slice(0, key.indexOf(':'))),
      signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
      logger,
    });
  } finally {
    await consumer.close();
  }
}
