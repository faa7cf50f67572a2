import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The worker's metrics (docs/OBSERVABILITY.md); one set per worker, in the worker's registry. */
export function createWorkerMetrics(registry: Registry) {
  const registers = [registry];
  const latencyBuckets = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  return {
    lag: new Gauge({
      name: 'tickmesh_worker_consumer_lag_records',
      help: 'Records appended to the partition and not yet processed',
      labelNames: ['partition'],
      registers,
    }),
    mailboxDepth: new Gauge({
      name: 'tickmesh_worker_mailbox_batches',
      help: 'Record batches waiting in a partition mailbox',
      labelNames: ['partition'],
      registers,
    }),
    pendingRows: new Gauge({
      name: 'tickmesh_worker_pending_rows',
      help: 'Candles and alerts produced and not yet committed',
      labelNames: ['partition'],
      registers,
    }),
    paused: new Gauge({
      name: 'tickmesh_worker_partition_paused',
      help: '1 while backpressure holds the partition paused',
      labelNames: ['partition'],
      registers,
    }),
    pausedSeconds: new Counter({
      name: 'tickmesh_worker_paused_seconds_total',
      help: 'Time partitions spent paused by backpressure',
      labelNames: ['partition'],
      registers,
    }),
    owned: new Gauge({ name: 'tickmesh_worker_partitions_owned', help: 'Partitions this worker runs', registers }),
    trades: new Counter({
      name: 'tickmesh_worker_trades_total',
      help: 'Trade records processed, by outcome',
      labelNames: ['outcome'],
      registers,
    }),
    candles: new Counter({
      name: 'tickmesh_worker_candles_committed_total',
      help: 'Candle rows committed (closed and revised)',
      labelNames: ['kind'],
      registers,
    }),
    alerts: new Counter({ name: 'tickmesh_worker_alerts_committed_total', help: 'Alerts committed', registers }),
    checkpointSeconds: new Histogram({
      name: 'tickmesh_worker_checkpoint_seconds',
      help: 'Time to publish and commit one checkpoint',
      buckets: latencyBuckets,
      registers,
    }),
    checkpointBytes: new Histogram({
      name: 'tickmesh_worker_checkpoint_state_bytes',
      help: 'Bytes a checkpoint writes: the partition state and the rows of the actors that changed',
      buckets: [1e3, 1e4, 1e5, 1e6, 1e7],
      registers,
    }),
    commitErrors: new Counter({
      name: 'tickmesh_worker_commit_errors_total',
      help: 'Failed checkpoint attempts, by error code',
      labelNames: ['code'],
      registers,
    }),
    markets: new Gauge({
      name: 'tickmesh_worker_markets',
      help: 'Market actors in memory (parked: evicted idle markets, kept in PostgreSQL until their next trade)',
      labelNames: ['partition', 'state'],
      registers,
    }),
    evictions: new Counter({
      name: 'tickmesh_worker_market_evictions_total',
      help: 'Idle market actors evicted (parked) and brought back by a trade',
      labelNames: ['event'],
      registers,
    }),
    refusedRows: new Counter({
      name: 'tickmesh_worker_rows_refused_total',
      help: 'Candle and alert rows the database refused for a value, set aside and sent to the rejected topic',
      labelNames: ['kind'],
      registers,
    }),
    partitionFailures: new Counter({
      name: 'tickmesh_worker_partition_failures_total',
      help: 'Partitions stopped by an error that is neither a data error nor retriable (the process exits)',
      labelNames: ['partition'],
      registers,
    }),
    outputErrors: zeroed(
      new Counter({
        name: 'tickmesh_worker_output_errors_total',
        help: 'Failed attempts to store a durable output (bus: JetStream, cache: Redis, log: late and rejected topics)',
        labelNames: ['output'],
        registers,
      }),
      'output',
      ['bus', 'cache', 'log'],
    ),
    eventToPublish: new Histogram({
      name: 'tickmesh_worker_event_to_publish_seconds',
      help: 'Exchange event time of a trade to the publish of the candle update it made',
      buckets: latencyBuckets,
      registers,
    }),
    appendToPublish: new Histogram({
      name: 'tickmesh_worker_append_to_publish_seconds',
      help: 'Kafka append time of a trade record to the publish of the candle update it made',
      buckets: latencyBuckets,
      registers,
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

/**
 * `counter` exported at 0 for each of `values` of its one label before anything counts: a rate
 * over a series that appears already counting misses that first count, and an alert on the
 * first failures of an outage would never see them.
 */
function zeroed<L extends string>(counter: Counter<L>, label: L, values: readonly string[]): Counter<L> {
  for (const v of values) counter.inc({ [label]: v } as Partial<Record<L, string>>, 0);
  return counter;
}
