/**
 * The Bus contract: live messages by subject (NATS core in production, the in-process bus in
 * embedded mode), durable streams with de-duplication by message id (JetStream), and key-value
 * buckets with watches (NATS KV). Only adapters in this folder import a NATS client.
 *
 * Subjects are dot-separated tokens (`candle.1m.binance.BTCUSDT`). In a subscription, `*`
 * matches exactly one token and `>` (last token only) matches one or more.
 *
 * Live delivery is at most once: a subscriber whose bounded buffer is full loses the oldest
 * buffered messages and counts them in `dropped`; it never slows the publisher. Everything
 * published carries (key, revision, last trade id) so that consumers drop what they have seen.
 */
export type BusHeaders = Readonly<Record<string, string>>;

export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: BusHeaders;
}

export interface SubscribeOptions {
  /** Messages buffered for this subscriber before the oldest are dropped. Default 10,000. */
  readonly capacity?: number;
  /** Ends the subscription (the iterator finishes) when aborted. */
  readonly signal?: AbortSignal;
}

/** A live subscription: iterate it once; it ends on unsubscribe(), its signal or the bus closing. */
export interface Subscription extends AsyncIterable<BusMessage> {
  readonly subject: string;
  /** Messages lost because the buffer was full (at most once delivery). */
  readonly dropped: number;
  unsubscribe(): void;
}

export interface DurableStreamConfig {
  readonly name: string;
  /** Subjects (wildcards allowed) whose messages the stream stores. */
  readonly subjects: readonly string[];
  /** Messages older than this are discarded. Default: kept until maxMessages. */
  readonly maxAgeMs?: number;
  /** Oldest messages are discarded past this count. Default 1,000,000. */
  readonly maxMessages?: number;
  /** How long a message id is remembered for de-duplication. Default 2 minutes. */
  readonly duplicateWindowMs?: number;
}

export interface DurablePublishOptions {
  /** De-duplication key: a second publish with the same id within the window is not stored. */
  readonly msgId: string;
  readonly headers?: BusHeaders;
}

export interface PublishAck {
  readonly stream: string;
  /** Sequence of the stored message (of the first one, for a duplicate). */
  readonly seq: number;
  readonly duplicate: boolean;
}

export interface StoredMessage extends BusMessage {
  readonly seq: number;
  /** Storage time, Unix epoch ms. */
  readonly time: number;
}

export interface ReadStreamOptions {
  /** First sequence to deliver; default 1 (the oldest kept). */
  readonly fromSeq?: number;
  /** Only messages whose subject matches this (wildcards allowed). */
  readonly subject?: string;
  readonly signal: AbortSignal;
}

export interface KvEntry {
  readonly key: string;
  /** Empty for a delete. */
  readonly value: Uint8Array;
  /** Per bucket, strictly increasing with every put and delete. */
  readonly revision: number;
  readonly operation: 'put' | 'delete';
}

export interface KvWatchOptions {
  /** Key or wildcard pattern (`placement.>`); default every key. */
  readonly key?: string;
  readonly signal: AbortSignal;
}

/**
 * A key-value bucket. Keys are subject-like (`placement.worker-1`): letters, digits, `-`, `_`,
 * `=`, `/` and `.` as separator.
 */
export interface KvBucket {
  readonly name: string;
  /** Stores `value` under `key`; resolves with the entry's revision. */
  put(key: string, value: Uint8Array): Promise<number>;
  /** The current value, or null when absent or deleted. */
  get(key: string): Promise<KvEntry | null>;
  delete(key: string): Promise<void>;
  /** Current keys, optionally matching a wildcard pattern. */
  keys(pattern?: string): Promise<string[]>;
  /**
   * The current entry of every matching key (deleted keys omitted), then every change as it
   * happens in revision order, until the signal aborts: each put, and the delete of each key
   * the watcher has seen. A watcher that falls behind may see only the latest put of a key.
   */
  watch(options: KvWatchOptions): AsyncIterable<KvEntry>;
}

export interface Bus {
  /** Publishes a live message. Never blocks; throws only when the bus is closed or the subject is invalid. */
  publish(subject: string, data: Uint8Array, headers?: BusHeaders): void;
  /** Resolves once everything published so far has reached the server. */
  flush(): Promise<void>;
  subscribe(subject: string, options?: SubscribeOptions): Subscription;
  /** Creates the stream, or updates its subjects and limits when it exists. */
  ensureStream(config: DurableStreamConfig): Promise<void>;
  /** Stores a message on the stream whose subjects match; resolves once stored (or found duplicate). */
  publishDurable(subject: string, data: Uint8Array, options: DurablePublishOptions): Promise<PublishAck>;
  /** Stored messages of a stream in sequence order, then new ones as they are stored, until aborted. */
  readStream(stream: string, options: ReadStreamOptions): AsyncIterable<StoredMessage>;
  /**
   * Opens the bucket, creating it when it does not exist. With `create: false` a bucket that does
   * not exist yet is an UnavailableError (retriable: its owner has not made it yet), for a user
   * that may read and write keys but not create buckets.
   */
  kv(bucket: string, options?: { readonly create?: boolean }): Promise<KvBucket>;
  /** Ends every subscription and releases the connection. */
  close(): Promise<void>;
}
