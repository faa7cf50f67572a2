import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The operator's metrics, registered on the process registry it is given. */
export interface OperatorMetrics {
  /** 1 while this replica holds the Lease. */
  readonly leader: Gauge;
  readonly members: Gauge;
  /** Largest minus smallest partition count over members. */
  readonly countSpread: Gauge;
  /** Heaviest member's load over the mean member load (1 = even). */
  readonly loadRatio: Gauge;
  readonly epoch: Gauge;
  readonly version: Gauge;
  readonly rebalances: Counter<'trigger'>;
  readonly partitionsMoved: Counter<'reason'>;
  /** From the first unhandled membership/load change to the placement that answers it being published. */
  readonly publishSeconds: Histogram;
  /** From a change to the round that leaves the placement settled (rate-limited rounds included). */
  readonly settleSeconds: Histogram;
  readonly publishErrors: Counter<'target'>;
  /** Measured input rate per partition (trades/s), from the workers' heartbeats. */
  readonly partitionRate: Gauge<'partition'>;
  /** Lag per partition (records), as its owner last reported it. */
  readonly partitionLag: Gauge<'partition'>;
  /** Partitions their owners hold back (backpressure). */
  readonly pausedPartitions: Gauge;
  /** The worker Deployment's replicas as the autoscaler last saw or set them. */
  readonly autoscaleReplicas: Gauge;
  readonly autoscaleChanges: Counter<'reason'>;
}

export function createOperatorMetrics(registry: Registry): OperatorMetrics {
  const registers = [registry];
  const buckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
  return {
    leader: new Gauge({ name: 'tickmesh_operator_leader', help: '1 while this replica holds the Lease', registers }),
    members: new Gauge({ name: 'tickmesh_operator_members', help: 'Ready worker pods (members)', registers }),
    countSpread: new Gauge({
      name: 'tickmesh_operator_placement_count_spread',
      help: 'Largest minus smallest partition count over members',
      registers,
    }),
    loadRatio: new Gauge({
      name: 'tickmesh_operator_placement_load_ratio',
      help: 'Heaviest member load over mean member load (1 = even)',
      registers,
    }),
    epoch: new Gauge({ name: 'tickmesh_operator_placement_epoch', help: 'Highest epoch issued', registers }),
    version: new Gauge({ name: 'tickmesh_operator_placement_version', help: 'Published placement version', registers }),
    rebalances: new Counter({
      name: 'tickmesh_operator_rebalances_total',
      help: 'Published placements that moved partitions',
      labelNames: ['trigger'],
      registers,
    }),
    partitionsMoved: new Counter({
      name: 'tickmesh_operator_partitions_moved_total',
      help: 'Partitions moved, by reason (orphan, balance, load)',
      labelNames: ['reason'],
      registers,
    }),
    publishSeconds: new Histogram({
      name: 'tickmesh_operator_placement_publish_seconds',
      help: 'Time from a membership or load change to the published placement',
      buckets,
      registers,
    }),
    settleSeconds: new Histogram({
      name: 'tickmesh_operator_placement_settle_seconds',
      help: 'Time from a membership or load change to a settled placement',
      buckets,
      registers,
    }),
    publishErrors: new Counter({
      name: 'tickmesh_operator_publish_errors_total',
      help: 'Failed publications, by target (configmap, mirror, event)',
      labelNames: ['target'],
      registers,
    }),
    partitionRate: new Gauge({
      name: 'tickmesh_operator_partition_rate',
      help: 'Trades appended per second to each partition, as its owner measured it',
      labelNames: ['partition'],
      registers,
    }),
    partitionLag: new Gauge({
      name: 'tickmesh_operator_partition_lag_records',
      help: 'Records appended and not yet processed, per partition, as its owner reported it',
      labelNames: ['partition'],
      registers,
    }),
    pausedPartitions: new Gauge({
      name: 'tickmesh_operator_paused_partitions',
      help: 'Partitions their owners hold back (backpressure)',
      registers,
    }),
    autoscaleReplicas: new Gauge({
      name: 'tickmesh_operator_autoscale_replicas',
      help: 'Worker Deployment replicas as the autoscaler last saw or set them',
      registers,
    }),
    autoscaleChanges: new Counter({
      name: 'tickmesh_operator_autoscale_changes_total',
      help: 'Replica changes made by the autoscaler, by reason (backpressure, lag, rate, calm, below-min, above-max)',
      labelNames: ['reason'],
      registers,
    }),
  };
}
