import { context, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { LogProducer, OutgoingRecord } from '../log/log.js';
import { partitionForKey } from '../log/partitioner.js';

/**
 * One send of trades as a span, `ingest.append`: from the hand-over to the producer to the log's
 * acknowledgement. The producer is called inside the span's context, so it puts the span's W3C
 * context (`traceparent`, `tracestate`) in every record's headers, and the worker that processes
 * the records continues the trace (docs/OBSERVABILITY.md, "Traces").
 *
 * A span the sampler drops sends its records without trace headers: the worker then decides for
 * itself, and no header bytes are spent on a trace nobody keeps.
 *
 * `partitions` is the trades topic's partition count, when known: the span names the partitions
 * its records go to (Kafka's default partitioner on their keys, as the producer places them).
 */
export function appendTraced(
  tracer: Tracer,
  producer: LogProducer,
  topic: string,
  records: readonly OutgoingRecord[],
  trades: number,
  partitions?: number,
): Promise<void> {
  const span = tracer.startSpan('ingest.append', { kind: SpanKind.PRODUCER });
  if (!span.isRecording()) {
    span.end();
    return producer.send(topic, records);
  }
  const venues = new Set<string>();
  const markets = new Set<string>();
  const placed = new Set<number>();
  for (const r of records) {
    if (markets.has(r.key)) continue;
    markets.add(r.key);
    venues.add(r.key.slice(0, r.key.indexOf(':')));
    if (partitions !== undefined) placed.add(partitionForKey(r.key, partitions));
  }
  span.setAttributes({
    'messaging.system': 'kafka',
    'messaging.operation.type': 'send',
    'messaging.destination.name': topic,
    'messaging.batch.message_count': records.length,
    'tickmesh.venue': [...venues].join(','),
    'tickmesh.markets': markets.size,
    'tickmesh.trades': trades,
  });
  if (placed.size > 0) {
    const ids = [...placed].sort((a, b) => a - b);
    span.setAttribute('tickmesh.partitions', ids);
    if (ids.length === 1) span.setAttribute('messaging.destination.partition.id', String(ids[0]));
  }
  return context
    .with(trace.setSpan(context.active(), span), () => producer.send(topic, records))
    .then(
      () => span.end(),
      (err: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
        span.end();
        throw err;
      },
    );
}
