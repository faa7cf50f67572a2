/**
 * The Log contract: a partitioned, append-only record log (Kafka in production, the in-process
 * log in embedded mode). Only adapters in this folder import a Kafka client.
 *
 * Offsets are bigint. A record's key decides its partition with Kafka's own murmur2 partitioner,
 * so the in-process log and Kafka place a market on the same partition.
 */
export type Headers = Readonly<Record<string, string>>;

export interface OutgoingRecord {
  readonly key: string;
  readonly value: Uint8Array;
  readonly headers?: Headers;
}

export interface LogProducer {
  /**
   * Appends records to `topic`. Resolves once the log has acknowledged them (all in-sync
   * replicas); rejects with a `retriable` error when the log is unavailable. Idempotent on
   * retry: a record is never appended twice by one producer.
   */
  send(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface LogRecord {
  readonly partition: number;
  readonly offset: bigint;
  readonly key: string | null;
  readonly value: Uint8Array;
  readonly headers: Headers;
  /** Append (log) time, Unix epoch ms. */
  readonly timestamp: number;
}

export interface RecordBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly LogRecord[];
  /** Offset the next appended record of this partition will get, as of this fetch. */
  readonly highWatermark: bigint;
}

/**
 * Reads only the partitions it is told to, from the offsets it is told to (offsets live in
 * tickmesh's checkpoints, never in the log's consumer groups).
 */
export interface LogConsumer {
  /**
   * Start reading `partition` of the subscribed topic at `offset`; replaces any earlier position
   * (no batch from before the call is yielded after it). `offset` must not exceed the
   * partition's end offset; below its first retained record, reading starts at that record.
   */
  assign(partition: number, offset: bigint): Promise<void>;
  /** Stop reading `partition`; batches already handed out stay valid. */
  unassign(partition: number): Promise<void>;
  /**
   * Backpressure: from the moment this returns, no batch of `partition` is yielded (not even one
   * already fetched) until resume(), which continues exactly where the last yielded batch ended.
   */
  pause(partition: number): void;
  resume(partition: number): void;
  /** Batches of the assigned, unpaused partitions, until `signal` aborts or close(). */
  batches(signal: AbortSignal): AsyncIterable<RecordBatch>;
  close(): Promise<void>;
}

export interface LogAdmin {
  /** Creates the topic if it does not exist; a different partition count is an error. */
  ensureTopic(topic: string, partitions: number): Promise<void>;
  partitionCount(topic: string): Promise<number>;
  /** Next offset to be written, per partition. */
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  close(): Promise<void>;
}
