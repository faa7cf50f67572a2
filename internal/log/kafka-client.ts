import { Kafka, logLevel as KafkaLogLevel, type Mechanism, type SASLOptions } from 'kafkajs';
import type { KafkaSecurity } from '../config/connection-security.js';
import { readSecretFile, tlsFailure } from '../config/secret-file.js';
import type { Logger } from '../observe/logger.js';
import { ConnectionSecurityError, TickmeshError, UnavailableError } from '../runtime/errors.js';
import { createOAuthBearerProvider, oauthBearerMechanism } from './kafka-oauth.js';
import { fixRequestQueueTimers } from './kafka-request-queue.js';
import { kafkaTlsOptions } from './kafka-tls.js';
import { registerZstd } from './kafka-zstd.js';

/** What every kafkajs client of tickmesh is made from. */
export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** TLS and SASL (Endpoints.kafkaSecurity); undefined: plain text. */
  readonly security?: KafkaSecurity | undefined;
  /**
   * One connection attempt and no kafkajs log lines (each of its connection errors carries a
   * stack): for a caller that retries and reports itself (StartupGate).
   */
  readonly quiet?: boolean;
}

/** kafkajs's `ssl` and `sasl` for `security`, the files read now. */
export function kafkaSecurityOptions(security: KafkaSecurity | undefined): {
  ssl?: { ca?: string[]; cert?: string; key?: string; rejectUnauthorized: true };
  sasl?: SASLOptions | Mechanism;
} {
  if (!security) return {};
  const out: {
    ssl?: { ca?: string[]; cert?: string; key?: string; rejectUnauthorized: true };
    sasl?: SASLOptions | Mechanism;
  } = {};
  if (security.tls) out.ssl = kafkaTlsOptions(security.tls);
  if (security.sasl) {
    const { mechanism, username, passwordFile } = security.sasl;
    const password = readSecretFile(passwordFile, 'KAFKA_SASL_PASSWORD_FILE');
    out.sasl = { mechanism, username, password } as SASLOptions;
  }
  if (security.oauth) {
    out.sasl = oauthBearerMechanism(createOAuthBearerProvider(security.oauth));
  }
  return out;
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
    ...kafkaSecurityOptions(options.security),
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // kafkajs's default backoff grows to about 10 s between reconnect attempts, and a crashed
    // consumer waits the last backoff before it restarts: capped, a client resumes within a few
    // seconds of a broker's return.
    retry: options.quiet ? { retries: 0 } : { maxRetryTime: 3_000 },
    logLevel: options.quiet ? KafkaLogLevel.NOTHING : KafkaLogLevel.WARN,
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
  // The OAUTHBEARER provider's own verdict (an expired token, a refusing token endpoint), which
  // kafkajs wraps in its authentication errors.
  const own = causeOf(err, ConnectionSecurityError) ?? causeOf(err, UnavailableError);
  if (own instanceof ConnectionSecurityError) {
    return new ConnectionSecurityError('kafka', `${what}: ${own.message.replace(/^kafka: /, '')}`, { cause: err });
  }
  if (own) return new UnavailableError(`kafka unavailable: ${what}: ${own.message}`, { cause: err });
  const refused = securityFailure(err);
  if (refused) return new ConnectionSecurityError('kafka', `${what}: ${refused}`, { cause: err });
  let e = err as { name?: string; retriable?: boolean; cause?: unknown } | null | undefined;
  for (let depth = 0; e && depth < 8; depth++) {
    if (UNAVAILABLE_NAMES.has(e.name ?? '') || e.retriable === true) {
      return new UnavailableError(`kafka unavailable: ${what}`, { cause: err });
    }
    e = e.cause as typeof e;
  }
  return err;
}

/** The first error of class `type` in the cause chain. */
function causeOf<T>(err: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  let e = err as { cause?: unknown; originalError?: unknown } | null | undefined;
  for (let depth = 0; e && depth < 8; depth++) {
    if (e instanceof type) return e as T;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return undefined;
}

/** Why the brokers refused this client (SASL or TLS), from anywhere in the cause chain. */
function securityFailure(err: unknown): string | undefined {
  const tls = tlsFailure(err);
  if (tls) return tls;
  let e = err as { name?: string; message?: string; cause?: unknown; originalError?: unknown } | null | undefined;
  for (let depth = 0; e && depth < 8; depth++) {
    if (e.name === 'KafkaJSSASLAuthenticationError' || /SASL .*authentication failed/i.test(e.message ?? '')) {
      return `SASL authentication failed (wrong user, password, token or mechanism): ${e.message}`;
    }
    if (/Unsupported SASL mechanism|sasl .*not enabled/i.test(e.message ?? '')) {
      return `the brokers do not offer this SASL mechanism: ${e.message}`;
    }
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return undefined;
}
