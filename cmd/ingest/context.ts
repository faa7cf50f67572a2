import type { Registry } from 'prom-client';
import type { IngestConfig } from '../../internal/config/ingest.js';
import { createContextSources } from '../../internal/ingest/context/config.js';
import type { ContextIngestor } from '../../internal/ingest/context/context-ingestor.js';
import { DEFAULT_CONTEXT_TOPICS } from '../../internal/ingest/context/records.js';
import { startContextIngestor } from '../../internal/ingest/context/start.js';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import type { LogProducer } from '../../internal/log/log.js';
import type { Logger } from '../../internal/observe/logger.js';

/** The context sources of `config` (reference, sentiment, news), started on Kafka; undefined when none. */
export async function startIngestContext(
  config: IngestConfig,
  producer: LogProducer,
  logger: Logger,
  registry: Registry,
  signal: AbortSignal,
): Promise<ContextIngestor | undefined> {
  if (config.sources.length === 0) return undefined;
  const sources = createContextSources(config.sources, process.env);
  const options = { brokers: config.kafkaBrokers, security: config.kafkaSecurity, logger };
  const admin = await createKafkaAdmin({ ...options, clientId: `${config.clientId}-context-admin` });
  try {
    return await startContextIngestor({
      sources,
      topics: DEFAULT_CONTEXT_TOPICS,
      admin,
      consumer: (topic) => createKafkaConsumer({ ...options, clientId: `${config.clientId}-context-resume`, topic }),
      producer,
      logger,
      registry,
      resumeTail: Math.max(config.resumeTail, 5_000),
      signal,
    });
  } finally {
    await admin.close();
  }
}
