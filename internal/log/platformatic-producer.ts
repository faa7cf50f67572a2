import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { type MessageToProduce, Producer, type SASLOptions } from '@platformatic/kafka';
import type { Message } from 'kafkajs';
import type { KafkaSecurity } from '../config/connection-security.js';
import { readSecretFile, tlsFailure } from '../config/secret-file.js';
import type { Logger } from '../observe/logger.js';
import { ConnectionSecurityError, TickmeshError, UnavailableError } from '../runtime/errors.js';
import { backoffDelay } from '../runtime/retry.js';
import { PRODUCE_RETRY } from '../runtime/retry-policies.js';
import { MessageBuilder } from './kafka-messages.js';
import { createOAuthBearerProvider } from './kafka-oauth.js';
import type { KafkaProducerOptions } from './kafka-producer.js';
import { kafkaTlsOptions } from './kafka-tls.js';
import type { LogProducer, OutgoingRecord } from './log.js';
import { murmur2 } from './partitioner.js';
import { type KafkaProducerStats, ProduceQueue, type ProduceTransport } from './produce-queue.js';

type Headers = Map<Buffer, Buffer>;
type PlatformaticMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/** Attempts of the connection check at creation; a refusal then surfaces instead of a retry loop. */
const CONNECT_RETRIES = 3;

/**
 * A LogProducer over @platformatic/kafka, beside the kafkajs one (kafka-producer.ts) and with its
 * options and guarantees: idempotent, acks from all in-sync replicas, compressed, batched, with a
 * bounded buffer (produce-queue.ts), records placed on the partition kafkajs and the Java client
 * pick (murmur2 of the key, sign bit masked), TLS and SASL (PLAIN, SCRAM, OAUTHBEARER).
 *
 * Retrying a failed request is left to the client, with the backoff of PRODUCE_RETRY and without
 * limit until close(): it sends the same batch with the same producer id and sequence numbers, so
 * the broker drops a copy it had already appended. Once it gives up on a request it takes a new
 * producer id, and sending the batch again could append a copy; so it is not told to give up on
 * an outage, and only a refusal (canRetry false) reaches the queue.
 *
 * zstd is the client's own, on Node's zlib in the calling thread, at zstd's default level.
 */
export async function createPlatformaticProducer(
  options: KafkaProducerOptions,
): Promise<LogProducer & KafkaProducerStats> {
  const logger = options.logger.child({ component: 'kafka-producer', client: 'platformatic' });
  const transport = new PlatformaticTransport(options, logger);
  await transport.connect();
  return new ProduceQueue(transport, { ...options, logger });
}

class PlatformaticTransport implements ProduceTransport<PlatformaticMessage> {
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  private readonly builder = new MessageBuilder();
  /** Header maps per headers object of the builder (shared by the records of a send). */
  private readonly headerMaps = new WeakMap<object, Headers>();
  private retrying = false;

  constructor(options: KafkaProducerOptions, logger: Logger) {
    this.producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
      clientId: options.clientId,
      bootstrapBrokers: [...options.brokers],
      idempotent: true,
      acks: -1,
      compression: options.compression ?? 'zstd',
      partitioner: (_message, key) => (key ? murmur2(key) & 0x7fffffff : 0),
      autocreateTopics: false,
      connectTimeout: options.connectionTimeoutMs ?? 10_000,
      timeout: options.requestTimeoutMs ?? 30_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      retries: Number.MAX_SAFE_INTEGER,
      retryDelay: (_client, operation, attempt, _retries, err) => {
        if (attempt === 1 && !this.retrying) {
          this.retrying = true;
          logger.warn({ err, operation }, 'Kafka unavailable; retrying the produce request');
        }
        return backoffDelay(PRODUCE_RETRY, attempt);
      },
      ...platformaticSecurity(options.security),
    });
  }

  /** Reaches a broker (TLS and SASL included) and takes a producer id, or says why not. */
  async connect(): Promise<void> {
    try {
      await this.producer.metadata({ topics: [], retries: CONNECT_RETRIES });
      await this.producer.initIdempotentProducer({});
    } catch (err) {
      await this.producer.close().catch(() => undefined);
      const classified = classifyPlatformaticError(err, 'producer connect');
      throw classified instanceof TickmeshError
        ? classified
        : new TickmeshError('TM_PRODUCE', 'Kafka refused the producer', { cause: err });
    }
  }

  messages(
    topic: string,
    records: readonly OutgoingRecord[],
    trace: Readonly<Record<string, string>>,
  ): PlatformaticMessage[] {
    const built = this.builder.messages(records, trace);
    const out = new Array<PlatformaticMessage>(built.length);
    for (let i = 0; i < built.length; i++) {
      const m = built[i] as Message;
      out[i] = m.headers
        ? { topic, key: m.key as Buffer, value: m.value as Buffer, headers: this.headerMap(m.headers) }
        : { topic, key: m.key as Buffer, value: m.value as Buffer };
    }
    return out;
  }

  private headerMap(headers: object): Headers {
    let map = this.headerMaps.get(headers);
    if (map === undefined) {
      map = new Map();
      for (const [k, v] of Object.entries(headers)) map.set(Buffer.from(k, 'utf8'), v as Buffer);
      this.headerMaps.set(headers, map);
    }
    return map;
  }

  async produce(topics: ReadonlyMap<string, PlatformaticMessage[]>): Promise<void> {
    const messages: PlatformaticMessage[] = [];
    for (const list of topics.values()) for (const m of list) messages.push(m);
    await this.producer.send({ messages });
    this.retrying = false;
  }

  classify(err: unknown, what: string): unknown {
    return classifyPlatformaticError(err, what);
  }

  async disconnect(): Promise<void> {
    await this.producer.close(true);
  }
}

/** @platformatic/kafka's `tls` and `sasl` for `security`, the files read now. */
export function platformaticSecurity(security: KafkaSecurity | undefined): { tls?: TlsOptions; sasl?: SASLOptions } {
  if (!security) return {};
  const out: { tls?: TlsOptions; sasl?: SASLOptions } = {};
  if (security.tls) out.tls = kafkaTlsOptions(security.tls);
  if (security.sasl) {
    const { mechanism, username, passwordFile } = security.sasl;
    const password = readSecretFile(passwordFile, 'KAFKA_SASL_PASSWORD_FILE');
    out.sasl = { mechanism: mechanism.toUpperCase() as SASLOptions['mechanism'], username, password };
  }
  if (security.oauth) {
    const provider = createOAuthBearerProvider(security.oauth);
    out.sasl = {
      mechanism: 'OAUTHBEARER',
      token: async () => (await provider()).value,
      // The broker answers a refused token with an error challenge (RFC 7628); an empty answer is success.
      authBytesValidator: (bytes, callback) => {
        if (bytes && bytes.length > 0) {
          callback(
            new ConnectionSecurityError(
              'kafka',
              `the broker refused the OAUTHBEARER token (${bytes.toString('utf8')}): its signature, issuer, audience or expiry (the broker's log says which)`,
            ),
            bytes,
          );
          return;
        }
        callback(null, bytes);
      },
    };
  }
  return out;
}

interface ErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly code?: unknown;
  readonly apiId?: unknown;
  readonly canRetry?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

/** The error and every error it wraps (`cause`, and the `errors` of an aggregate), depth first. */
function chain(err: unknown, depth = 0, out: ErrorLike[] = []): ErrorLike[] {
  if (!err || typeof err !== 'object' || depth > 8 || out.length > 64) return out;
  const e = err as ErrorLike;
  out.push(e);
  if (Array.isArray(e.errors)) for (const inner of e.errors) chain(inner, depth + 1, out);
  chain(e.cause, depth + 1, out);
  return out;
}

/**
 * What classifyKafkaError (kafka-client.ts) is for kafkajs: tickmesh's own verdicts (an expired
 * OAuth token) and a refused TLS or SASL handshake become ConnectionSecurityError; an error
 * made only of network failures, timeouts and errors the client calls retriable becomes
 * UnavailableError; anything else passes through.
 */
export function classifyPlatformaticError(err: unknown, what: string): unknown {
  if (err instanceof TickmeshError) return err;
  const all = chain(err);
  const own = all.find((e) => e instanceof ConnectionSecurityError) ?? all.find((e) => e instanceof UnavailableError);
  if (own instanceof ConnectionSecurityError) {
    return new ConnectionSecurityError('kafka', `${what}: ${own.message?.replace(/^kafka: /, '')}`, { cause: err });
  }
  if (own) return new UnavailableError(`kafka unavailable: ${what}: ${own.message}`, { cause: err });
  for (const e of all) {
    const tls = tlsFailure(e);
    if (tls) return new ConnectionSecurityError('kafka', `${what}: ${tls}`, { cause: err });
  }
  const auth = all.find((e) => e.code === 'PLT_KFK_AUTHENTICATION' || e.apiId === 'SASL_AUTHENTICATION_FAILED');
  if (auth) {
    const reason = /suitable SASL mechanism/.test(auth.message ?? '')
      ? `the brokers do not offer this SASL mechanism: ${auth.message}`
      : `SASL authentication failed (wrong user, password, token or mechanism): ${auth.message}`;
    return new ConnectionSecurityError('kafka', `${what}: ${reason}`, { cause: err });
  }
  if (all.some((e) => e.canRetry === false)) return err;
  if (all.some((e) => e.code === 'PLT_KFK_NETWORK' || e.code === 'PLT_KFK_TIMEOUT' || e.canRetry === true)) {
    return new UnavailableError(`kafka unavailable: ${what}`, { cause: err });
  }
  return err;
}
