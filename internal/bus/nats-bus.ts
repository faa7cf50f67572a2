import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type StreamConfig as NatsStreamConfig,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type MsgHdrs, type NatsConnection, nanos, headers as natsHeaders } from '@nats-io/transport-node';
import type { NatsSecurity } from '../config/connection-security.js';
import type { Logger } from '../observe/logger.js';
import { ConfigError, ConnectionSecurityError, InputError, UnavailableError } from '../runtime/errors.js';
import type {
  Bus,
  BusHeaders,
  DurablePublishOptions,
  DurableStreamConfig,
  KvBucket,
  PublishAck,
  ReadStreamOptions,
  StoredMessage,
  SubscribeOptions,
  Subscription,
} from './bus.js';
import { linkSignals } from './linked-signal.js';
import { LiveBuffer } from './live-buffer.js';
import { natsConnectOptions } from './nats-connect-options.js';
import { classifyNatsError, isStreamNotFound, natsSecurityFailure } from './nats-errors.js';
import { NatsKvBucket } from './nats-kv-bucket.js';
import { isValidPattern, isValidSubject } from './subject-syntax.js';

/**
 * The Bus on NATS: core publish/subscribe, JetStream streams and KV buckets over one connection
 * that reconnects forever (publishes made while disconnected are buffered by the client and
 * sent on reconnect; durable publishes fail with UnavailableError and are retried by the caller).
 */
export interface NatsBusOptions {
  /** `nats://host:port`, comma-separated for several (NATS_URL). */
  readonly servers: string;
  readonly name?: string;
  readonly logger?: Logger;
  /** Timeout of JetStream and KV requests, ms. Default 5,000. */
  readonly requestTimeoutMs?: number;
  /** TLS and credentials (Endpoints.natsSecurity); a `tls://` URL requires TLS without it too. */
  readonly security?: NatsSecurity | undefined;
}

const EMPTY: BusHeaders = Object.freeze({});
const DEFAULT_CAPACITY = 10_000;

function toNatsHeaders(h: BusHeaders | undefined): MsgHdrs | undefined {
  if (!h) return undefined;
  const keys = Object.keys(h);
  if (keys.length === 0) return undefined;
  const out = natsHeaders();
  for (const k of keys) out.set(k, h[k]!);
  return out;
}

function fromNatsHeaders(h: MsgHdrs | undefined): BusHeaders {
  if (!h) return EMPTY;
  const out: Record<string, string> = {};
  for (const k of h.keys()) out[k] = h.get(k);
  return Object.freeze(out);
}

export async function createNatsBus(options: NatsBusOptions): Promise<Bus> {
  let nc: NatsConnection;
  const secured = natsConnectOptions(options.servers, options.security);
  try {
    nc = await connect({
      ...secured,
      name: options.name ?? 'tickmesh',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: options.requestTimeoutMs ?? 5_000,
      // Otherwise the client builds two Errors (two stack traces) for every request in case it
      // fails, a visible share of a live worker's CPU for its JetStream publishes. Errors still
      // carry their message and the subject; classifyNatsError() wraps them with what was attempted.
      noAsyncTraces: true,
    });
  } catch (err) {
    const refused = natsSecurityFailure(err);
    if (refused) throw new ConnectionSecurityError('nats', `connect to ${options.servers}: ${refused}`, { cause: err });
    throw new UnavailableError('nats unavailable: connect', { cause: err });
  }
  const timeout = options.requestTimeoutMs ?? 5_000;
  const js = jetstream(nc, { timeout });
  const jsm = await jetstreamManager(nc, { timeout, checkAPI: false });
  const bus = new NatsBus(nc, js, jsm, options.logger);
  return bus;
}

class NatsBus implements Bus {
  private readonly closing = new AbortController();
  private readonly kvm: Kvm;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    logger: Logger | undefined,
  ) {
    this.kvm = new Kvm(js);
    if (logger) {
      void (async () => {
        for await (const s of nc.status()) {
          if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
            logger.warn({ status: s.type }, 'nats connection status');
          }
        }
      })();
    }
  }

  publish(subject: string, data: Uint8Array, headers?: BusHeaders): void {
    if (!isValidSubject(subject)) throw new InputError('bad_subject', `invalid subject '${subject}'`);
    const h = toNatsHeaders(headers);
    this.nc.publish(subject, data, h ? { headers: h } : undefined);
  }

  async flush(): Promise<void> {
    try {
      await this.nc.flush();
    } catch (err) {
      throw classifyNatsError(err, 'flush');
    }
  }

  subscribe(subject: string, options: SubscribeOptions = {}): Subscription {
    if (!isValidPattern(subject)) throw new InputError('bad_subject', `invalid subject pattern '${subject}'`);
    // Callback mode: the client's own queue is unbounded; the LiveBuffer is the bound.
    let buffer: LiveBuffer | undefined;
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err || !buffer) return;
        buffer.push({ subject: msg.subject, data: msg.data, headers: fromNatsHeaders(msg.headers) });
      },
    });
    buffer = new LiveBuffer(
      subject,
      options.capacity ?? DEFAULT_CAPACITY,
      () => {
        if (!sub.isClosed()) sub.unsubscribe();
      },
      [this.closing.signal, options.signal],
    );
    return buffer;
  }

  async ensureStream(config: DurableStreamConfig): Promise<void> {
    if (config.subjects.length === 0 || !config.subjects.every(isValidPattern)) {
      throw new ConfigError(`stream ${config.name}: invalid subjects`);
    }
    const cfg: Partial<NatsStreamConfig> & { name: string } = {
      name: config.name,
      subjects: [...config.subjects],
      max_age: config.maxAgeMs ? nanos(config.maxAgeMs) : 0,
      max_msgs: config.maxMessages ?? 1_000_000,
      duplicate_window: nanos(config.duplicateWindowMs ?? 120_000),
    };
    try {
      try {
        await this.jsm.streams.info(config.name);
      } catch (err) {
        if (!isStreamNotFound(err)) throw err;
        await this.jsm.streams.add(cfg);
        return;
      }
      await this.jsm.streams.update(config.name, cfg);
    } catch (err) {
      const c = classifyNatsError(err, `ensureStream ${config.name}`);
      if (c instanceof UnavailableError) throw c;
      throw new ConfigError(`stream ${config.name}: ${(err as Error).message}`, { cause: err });
    }
  }

  async publishDurable(subject: string, data: Uint8Array, options: DurablePublishOptions): Promise<PublishAck> {
    if (!isValidSubject(subject)) throw new InputError('bad_subject', `invalid subject '${subject}'`);
    const h = toNatsHeaders(options.headers);
    try {
      const ack = await this.js.publish(
        subject,
        data,
        h ? { msgID: options.msgId, headers: h } : { msgID: options.msgId },
      );
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw classifyNatsError(err, `publish ${subject}`);
    }
  }

  async *readStream(stream: string, options: ReadStreamOptions): AsyncGenerator<StoredMessage> {
    const linked = linkSignals([options.signal, this.closing.signal]);
    try {
      yield* this.consume(stream, options, linked.signal);
    } finally {
      linked.unlink();
    }
  }

  private async *consume(
    stream: string,
    options: ReadStreamOptions,
    signal: AbortSignal,
  ): AsyncGenerator<StoredMessage> {
    if (signal.aborted) return;
    let consumer: Awaited<ReturnType<JetStreamClient['consumers']['get']>>;
    try {
      consumer = await this.js.consumers.get(stream, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: options.fromSeq ?? 1,
        ...(options.subject === undefined ? {} : { filter_subjects: options.subject }),
      });
    } catch (err) {
      throw classifyNatsError(err, `read ${stream}`);
    }
    const messages = await consumer.consume();
    const stop = (): void => {
      void messages.close();
    };
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const m of messages) {
        if (signal.aborted) return;
        yield {
          subject: m.subject,
          data: m.data,
          headers: fromNatsHeaders(m.headers),
          seq: m.seq,
          time: m.time.getTime(),
        };
      }
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
  }

  async kv(name: string, options: { readonly create?: boolean } = {}): Promise<KvBucket> {
    if (!/^[-\w]+$/.test(name)) throw new InputError('bad_bucket', `invalid bucket name '${name}'`);
    try {
      if (options.create === false) {
        // Asked first: kvm.create() binds to a bucket that exists and creates one that does not.
        await this.jsm.streams.info(`KV_${name}`).catch((err: unknown) => {
          throw isStreamNotFound(err)
            ? new UnavailableError(`nats: kv ${name} does not exist yet`, { cause: err })
            : err;
        });
      }
      return new NatsKvBucket(name, await this.kvm.create(name, { history: 1 }), this.closing.signal);
    } catch (err) {
      throw classifyNatsError(err, `kv ${name}`);
    }
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    await this.nc.close();
  }
}
