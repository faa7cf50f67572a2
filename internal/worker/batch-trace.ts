import {
  type Context,
  context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { RecordBatch } from '../log/log.js';
import { contextFromHeaders } from '../observe/tracing.js';

/** Links a span carries at most: a batch of many producer sends, a checkpoint of many batches. */
const MAX_LINKS = 64;

/**
 * `worker.process-batch`: a fetched batch's span. Its parent is the trace context of the batch's
 * first traced record (the ingest send that appended it); every other distinct producer span
 * among the batch's records is a link. A batch gathers records of many sends, and a span has one
 * parent: the first keeps the common case (one send per batch, or the send that opened the
 * batch) a plain parent chain that every trace viewer draws, the links keep the rest reachable.
 *
 * Called only while tracing is on (the runner has a tracer): with it off, no header is read.
 */
export function startBatchSpan(tracer: Tracer, batch: RecordBatch, partition: number): Span {
  let parent: Context | undefined;
  let parentId = '';
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const record of batch.records) {
    if (record.headers.traceparent === undefined) continue;
    const ctx = contextFromHeaders(record.headers);
    const sc = trace.getSpanContext(ctx);
    if (sc === undefined) continue;
    if (parent === undefined) {
      parent = ctx;
      parentId = sc.spanId;
      continue;
    }
    if (sc.spanId === parentId || seen.has(sc.spanId)) continue;
    seen.add(sc.spanId);
    if (links.length < MAX_LINKS) links.push({ context: sc });
  }
  return tracer.startSpan(
    'worker.process-batch',
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.partition.id': String(partition),
        'messaging.batch.message_count': batch.records.length,
        'tickmesh.producer_spans': seen.size + (parent === undefined ? 0 : 1),
      },
    },
    parent ?? ROOT_CONTEXT,
  );
}

/**
 * The batches a checkpoint commits, for its span `worker.checkpoint`. Its parent is the first
 * batch since the last checkpoint that produced rows (a closed candle, an alert), else the first
 * batch: so the trace of a trade that closed a candle holds the candle's publish and its commit.
 * The other batches are links. Only spans that record are added, so with tracing off it stays empty.
 */
export class CheckpointTrace {
  constructor(readonly tracer: Tracer) {}

  private parent: SpanContext | undefined;
  private parentHasRows = false;
  private links: Link[] = [];
  private batches = 0;

  add(batch: SpanContext, producedRows: boolean): void {
    this.batches++;
    if (this.parent === undefined || (producedRows && !this.parentHasRows)) {
      if (this.parent !== undefined) this.link(this.parent);
      this.parent = batch;
      this.parentHasRows = producedRows;
      return;
    }
    this.link(batch);
  }

  private link(sc: SpanContext): void {
    if (this.links.length < MAX_LINKS) this.links.push({ context: sc });
  }

  /** The checkpoint's span, taking the batches gathered so far (the next checkpoint starts empty). */
  startSpan(partition: number, rows: number): Span {
    const parent = this.parent;
    const links = this.links;
    const batches = this.batches;
    this.parent = undefined;
    this.parentHasRows = false;
    this.links = [];
    this.batches = 0;
    return this.tracer.startSpan(
      'worker.checkpoint',
      {
        links,
        attributes: {
          'messaging.destination.partition.id': String(partition),
          'tickmesh.rows': rows,
          'tickmesh.batches': batches,
        },
      },
      parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, parent),
    );
  }

  /** `worker.commit`, the PostgreSQL transaction (with its retries) under the checkpoint's span. */
  async commitSpan<T>(checkpoint: Span, commit: () => Promise<T>): Promise<T> {
    if (!checkpoint.isRecording()) return commit();
    const span = this.tracer.startSpan(
      'worker.commit',
      {
        kind: SpanKind.CLIENT,
        attributes: { 'db.system.name': 'postgresql', 'db.operation.name': 'COMMIT' },
      },
      trace.setSpan(context.active(), checkpoint),
    );
    try {
      return await commit();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
      throw err;
    } finally {
      span.end();
    }
  }
}
