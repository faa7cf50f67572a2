import { Counter, type Registry } from 'prom-client';

/** The live reconciler's metrics (docs/OBSERVABILITY.md), in the worker's registry. */
export function createVerificationMetrics(registry: Registry) {
  const registers = [registry];
  return {
    verifications: new Counter({
      name: 'tickmesh_candle_verifications_total',
      help: 'Closed candles judged against the venue, by status (a changed judgement counts again)',
      labelNames: ['exchange', 'interval', 'status'],
      registers,
    }),
    droppedPushes: new Counter({
      name: 'tickmesh_kline_pushes_dropped_total',
      help: 'Venue kline pushes older than every window the reconciler holds: too late to judge',
      labelNames: ['exchange'],
      registers,
    }),
    rejectedRecords: new Counter({
      name: 'tickmesh_kline_records_rejected_total',
      help: 'Records of the klines topic that are not kline.v1, or of a venue without a convention',
      labelNames: ['reason'],
      registers,
    }),
    commitErrors: new Counter({
      name: 'tickmesh_verification_commit_errors_total',
      help: 'Failed commits of verifications and the klines checkpoint (retried)',
      registers,
    }),
  };
}

export type VerificationMetrics = ReturnType<typeof createVerificationMetrics>;
