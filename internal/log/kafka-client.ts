import { Kafka, logLevel as KafkaLogLevel } from 'kafkajs';
import type { Logger } from '../observe/logger.js';
import { TickmeshError, UnavailableError } from '../runtime/errors.js';
import { fixRequestQueueTimers } from './kafka-request-queue.js';
import { registerZstd } from './kafka-zstd.js';

/** What every kafkajs client of tickmesh is made from. */
export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

/**
 * A kafkajs client whose own logging goes to pino (warnings and errors only), reading and writing
 * zstd, without kafkajs's 1 ms timer loop per connection (kafka-request-queue.ts).
 */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  registerZstd();
  fixRequestQueueTimers();
  const logger = options.logger;
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // kafkajs's default backoff grows to about 10 s between reconnect attempts, and a crashed
    // consumer waits the last backoff before it restarts: capped, a client resumes within a few
    // seconds of a broker's return.
    retry: { maxRetryTime: 3_000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry) => {
      const { message, ...fields } = entry.log;
      const level =
        entry.level <= KafkaLogLevel.ERROR ? 'error' : entry.level === KafkaLogLevel.WARN ? 'warn' : 'debug';
      logger[level]({ kafkajs: entry.namespace, detail: message, ...fields }, 'kafkajs log');
    },
  });
}

const UNAVAILABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSLockTimeout',
  // Non-retriable to kafkajs, yet only says that no broker answered for the group for now.
  'KafkaJSGroupCoordinatorNotFound',
]);

/**
 * A broker outage becomes UnavailableError (retriable); anything else passes through. When its
 * own retries run out, kafkajs wraps the connection error in KafkaJSNumberOfRetriesExceeded and
 * that, one retry loop further out, in KafkaJSNonRetriableError: the whole cause chain counts.
 */
export function classifyKafkaError(err: unknown, what: string): unknown {
  if (err instanceof TickmeshError) return err;
  let e = err as { name?: string; retriable?: boolean; cause?: unknown } | null | undefined;
  for (let depth = 0; e && depth < 8; depth++) {
    if (UNAVAILABLE_NAMES.has(e.name ?? '') || e.retriable === true) {
      return new UnavailableError(`kafka unavailable: ${what}`, { cause: err });
    }
    e = e.cause as typeof e;
  }
  return err;
}
