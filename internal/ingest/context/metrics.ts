import { Counter, Gauge, type Registry } from 'prom-client';

/** The context connectors' Prometheus metrics (docs/SOURCES.md), on the registry given. */
export class ContextMetrics {
  readonly requests: Counter<string>;
  readonly records: Counter<string>;
  readonly repeats: Counter<string>;
  readonly rejects: Counter<string>;
  readonly unmapped: Counter<string>;
  readonly pollFailures: Counter<string>;
  readonly lastRecord: Gauge<string>;
  readonly stale: Gauge<string>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'tickmesh_context_requests_total',
      help: 'HTTP requests of the context sources, by answer status (0: no answer).',
      labelNames: ['source', 'status'],
      registers,
    });
    this.records = new Counter({
      name: 'tickmesh_context_records_total',
      help: 'New context records appended.',
      labelNames: ['source', 'kind'],
      registers,
    });
    this.repeats = new Counter({
      name: 'tickmesh_context_repeats_total',
      help: 'Context records dropped as already appended (same GUID, same day, same snapshot).',
      labelNames: ['source'],
      registers,
    });
    this.rejects = new Counter({
      name: 'tickmesh_context_rejects_total',
      help: 'Context payloads or items rejected, by reason.',
      labelNames: ['source', 'reason'],
      registers,
    });
    this.unmapped = new Counter({
      name: 'tickmesh_context_unmapped_total',
      help: 'Valid items naming no tickmesh asset (a coin outside internal/market/assets.ts).',
      labelNames: ['source'],
      registers,
    });
    this.pollFailures = new Counter({
      name: 'tickmesh_context_poll_failures_total',
      help: 'Polls that failed after their retries.',
      labelNames: ['source'],
      registers,
    });
    this.lastRecord = new Gauge({
      name: 'tickmesh_context_last_record_seconds',
      help: 'Unix time of the last new record of the source (0: none yet).',
      labelNames: ['source'],
      registers,
    });
    this.stale = new Gauge({
      name: 'tickmesh_context_stale',
      help: '1 while the source has had no new record for longer than its stale-after time.',
      labelNames: ['source'],
      registers,
    });
  }
}
