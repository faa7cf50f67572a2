import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { LogAdmin, LogConsumer, LogProducer } from '../../log/log.js';
import { type ContextIngestor, createContextIngestor } from './context-ingestor.js';
import type { ContextTopics } from './records.js';
import { readSeenKeys, SeenKeys } from './seen-keys.js';
import type { ContextSource } from './source.js';

export interface StartContextDeps {
  readonly sources: readonly ContextSource[];
  readonly topics: ContextTopics;
  readonly admin: LogAdmin;
  /** A consumer of one topic, used once at start to read back what was appended. */
  readonly consumer: (topic: string) => Promise<LogConsumer>;
  readonly producer: LogProducer;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Records read back per partition of each context topic. */
  readonly resumeTail: number;
  readonly signal: AbortSignal;
}

/**
 * Ensures the context topics (one partition each: a few records a minute; created here when the
 * topics Job did not), reads back the dedupe keys of what previous processes appended, and
 * starts the sources.
 */
export async function startContextIngestor(d: StartContextDeps): Promise<ContextIngestor> {
  for (const topic of Object.values(d.topics)) await d.admin.ensureTopic(topic, 1);
  const seen = new SeenKeys();
  const kinds = new Set(d.sources.map((s) => s.kind));
  for (const kind of kinds) {
    const topic = d.topics[kind];
    const ends = await d.admin.endOffsets(topic);
    if ([...ends.values()].every((e) => e === 0n)) continue;
    const consumer = await d.consumer(topic);
    try {
      const added = await readSeenKeys({
        consumer,
        ends,
        tail: d.resumeTail,
        into: seen,
        signal: AbortSignal.any([d.signal, AbortSignal.timeout(60_000)]),
      });
      d.logger.info({ topic, keys: added }, 'context dedupe keys read back');
    } finally {
      await consumer.close();
    }
  }
  const ingestor = createContextIngestor({
    sources: d.sources,
    producer: d.producer,
    topics: d.topics,
    logger: d.logger.child({ part: 'context' }),
    registry: d.registry,
    seen,
  });
  ingestor.start(d.signal);
  return ingestor;
}
