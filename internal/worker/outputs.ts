import { context, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { ActorOutput } from '../actor/output.js';
import type { Bus } from '../bus/bus.js';
import {
  alertSubject,
  candleMsgId,
  candleSubject,
  indicatorSubject,
  predictionSubject,
  priceSubject,
} from '../bus/subject-names.js';
import type { LogProducer, OutgoingRecord } from '../log/log.js';
import { tradeRecord } from '../log/record.js';
import type { Alert } from '../market/alert.js';
import type { Candle } from '../market/candle.js';
import { candleUpdateJson } from '../market/candle-json.js';
import type { IndicatorValues } from '../market/indicator-values.js';
import { tradeKey } from '../market/trade.js';
import { isRetriable } from '../runtime/errors.js';
import { retry } from '../runtime/retry.js';
import { OUTPUT_RETRY } from '../runtime/retry-policies.js';
import type { Cache, LatestPrice } from '../sink/cache.js';
import type { WorkerMetrics } from './metrics.js';

/** A record the worker could not use: kept on the rejected topic with its reason. */
export interface RejectedRecord {
  readonly reason: string;
  readonly message: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: string | null;
  readonly value: Uint8Array;
}

export interface OutputTopics {
  readonly late: string;
  readonly rejected: string;
}

export interface OutputsDeps {
  readonly bus: Bus;
  readonly cache: Pick<Cache, 'putCandles' | 'putIndicators' | 'putPrices'>;
  readonly producer: LogProducer;
  readonly topics: OutputTopics;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  readonly clock: () => number;
  /**
   * The cache gets the latest partial candle of each (market, interval) and the latest price of
   * each market at most this often (ms); 0 writes them with every batch. Closed and revised
   * candles are written at once whatever this is.
   */
  readonly liveCacheIntervalMs: number;
  /**
   * Tracing on: each publish of closed and revised candles and alerts (JetStream) is a span,
   * `worker.publish`, child of the span active at emit() (the batch that closed them).
   */
  readonly tracer?: Tracer;
}

const encoder = new TextEncoder();

/** The JSON a candle update carries on NATS (docs/STORAGE.md): the candle plus its key. */
export function candlePayload(c: Candle): Uint8Array {
  // Buffer.from encodes a concatenated string faster than TextEncoder (docs/BENCHMARKS.md).
  return Buffer.from(candleUpdateJson(c), 'utf8');
}

export function alertPayload(a: Alert): Uint8Array {
  return encoder.encode(JSON.stringify(a));
}

/**
 * Everything a partition sends besides its checkpoint. Live updates (partial candles, prices)
 * are published on NATS at once and never waited for. Durable outputs (closed and revised
 * candles and alerts on JetStream, the latest candles in the cache, late and rejected records on
 * Kafka) start at once too, and `settle()` waits for all of them, retrying failures, before the
 * checkpoint that covers them is committed: they are at-least-once, and carry (key, revision,
 * last trade id) or a message id so that consumers drop repeats.
 *
 * The cache's copy of the live updates is conflated: the latest partial candle per (market,
 * interval) and price per market are kept here and written every `liveCacheIntervalMs` (on the
 * batch or tick that finds the interval passed, and by every `settle()`). A live market emits
 * four rounds of partials a second; writing each to Redis was the largest cost of a worker's
 * live output. The cache's compare-and-set (cache.ts) keeps a conflated partial from replacing
 * the closed candle of its window, whatever order the writes land in.
 */
type OutputKind = 'bus' | 'cache' | 'log';

export class PartitionOutputs {
  private inflight: Array<Promise<void>> = [];
  private failed: Array<{ kind: OutputKind; op: () => Promise<void>; err: unknown }> = [];
  /** The latest failure since the last settle() that stored everything. */
  private failing: string | undefined;
  /** Live updates not yet in the cache: the newest per key. */
  private readonly liveCandles = new Map<string, Candle>();
  private readonly livePrices = new Map<string, LatestPrice>();
  private liveWrittenAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: OutputsDeps) {}

  /**
   * Publishes what one batch produced. `oldest` is the append and event time of the batch's first
   * record; undefined for what a clock tick released (partials held back by their rate limit,
   * windows closed by the clock), which is not in the latency histograms: no record's latency
   * ends there, and timing it from the tick would only add zeros.
   */
  emit(
    out: ActorOutput,
    rejected: readonly RejectedRecord[],
    oldest: { append: number; event: number } | undefined,
  ): void {
    const { bus, metrics } = this.deps;
    for (const c of out.partial) bus.publish(candleSubject('partial', c), candlePayload(c));
    // Live like partials: a replay recomputes the same forecasts, so they need no durable copy.
    for (const p of out.predictions) bus.publish(predictionSubject(p), encoder.encode(JSON.stringify(p)));
    // Live too: their durable copy is the store's, committed with the candle (docs/STORAGE.md).
    for (const v of out.indicators) bus.publish(indicatorSubject(v), encoder.encode(JSON.stringify(v)));
    if (oldest !== undefined && out.partial.length + out.closed.length > 0) {
      const now = this.deps.clock();
      metrics.appendToPublish.observe(Math.max(0, now - oldest.append) / 1000);
      metrics.eventToPublish.observe(Math.max(0, now - oldest.event) / 1000);
    }
    const durable = out.closed.length + out.revised.length + out.alerts.length;
    if (durable > 0) {
      const candles = out.revised.length === 0 ? [...out.closed] : [...out.closed, ...out.revised];
      const alerts = [...out.alerts];
      const tracer = this.deps.tracer;
      if (tracer === undefined) this.track('bus', () => this.publishDurable(candles, alerts));
      else {
        const parent = context.active();
        this.track('bus', () => this.publishTraced(tracer, parent, candles, alerts));
      }
      const latest = new Map<string, Candle>();
      for (const c of candles) keepNewest(latest, c);
      const stored = [...latest.values()];
      this.track('cache', () => this.deps.cache.putCandles(stored).then(() => {}));
    }
    if (out.indicators.length > 0) {
      // With their closed candles: the newest per (market, interval) of the batch.
      const latest = new Map<string, IndicatorValues>();
      for (const v of out.indicators) latest.set(`${v.exchange}:${v.symbol}:${v.interval}`, v);
      const values = [...latest.values()];
      this.track('cache', () => this.deps.cache.putIndicators(values).then(() => {}));
    }
    for (const c of out.partial) keepNewest(this.liveCandles, c);
    for (const { candle: c, time } of out.prices) {
      const p = {
        exchange: c.exchange,
        symbol: c.symbol,
        market: c.market,
        price: c.close,
        time,
        tradeId: c.lastTradeId,
      };
      // The latest per market (a batch may carry a trade's update and a tick's).
      this.livePrices.set(tradeKey(c), p);
      bus.publish(priceSubject(c), encoder.encode(JSON.stringify({ ...p, volume: c.volume, openTime: c.openTime })));
    }
    this.writeLive(false);
    const records: OutgoingRecord[] = out.late.map((l) => ({
      ...tradeRecord(l.trade),
      headers: { ...tradeRecord(l.trade).headers, 'tm-late-watermark': String(l.watermark) },
    }));
    if (records.length > 0) this.track('log', () => this.deps.producer.send(this.deps.topics.late, records));
    const rejects: OutgoingRecord[] = [
      ...out.rejected.map((r) => ({
        ...tradeRecord(r.trade),
        headers: { ...tradeRecord(r.trade).headers, 'tm-reject-reason': r.reason },
      })),
      ...rejected.map((r) => ({
        key: r.key ?? '',
        value: r.value,
        headers: {
          'tm-reject-reason': r.reason,
          'tm-reject-message': r.message,
          'tm-source': `${r.partition}@${r.offset}`,
        },
      })),
    ];
    if (rejects.length > 0) this.track('log', () => this.deps.producer.send(this.deps.topics.rejected, rejects));
  }

  /** For a clock tick: writes the live updates to the cache if `liveCacheIntervalMs` has passed. */
  tick(): void {
    this.writeLive(false);
  }

  /**
   * Resolves once every output emitted so far is stored. Retriable failures (a server away) are
   * retried with backoff (OUTPUT_RETRY) until `signal` aborts; a failure that is not retriable
   * (a topic that does not exist, a message the server refuses) rejects at once: retrying it
   * could never succeed, and the partition fails with it (error-rule.ts).
   */
  async settle(signal: AbortSignal): Promise<void> {
    this.writeLive(true);
    await retry(
      async (attempt) => {
        if (attempt > 1) {
          const again = this.failed;
          this.failed = [];
          for (const { kind, op } of again) this.track(kind, op);
        }
        const pending = this.inflight;
        this.inflight = [];
        await Promise.all(pending);
        if (this.failed.length === 0) {
          this.failing = undefined;
          return;
        }
        throw (this.failed.find((f) => !isRetriable(f.err)) ?? (this.failed[0] as { err: unknown })).err;
      },
      { ...OUTPUT_RETRY, signal },
    );
  }

  get pending(): number {
    return this.inflight.length + this.failed.length;
  }

  /** Why outputs are not stored (a server outage, retried until settle() succeeds), or undefined. */
  get problem(): string | undefined {
    return this.failing;
  }

  /** Writes the conflated live updates to the cache: when `force`, or once the interval has passed. */
  private writeLive(force: boolean): void {
    if (this.liveCandles.size === 0 && this.livePrices.size === 0) return;
    const now = this.deps.clock();
    if (!force && now - this.liveWrittenAt < this.deps.liveCacheIntervalMs) return;
    this.liveWrittenAt = now;
    if (this.liveCandles.size > 0) {
      const candles = [...this.liveCandles.values()];
      this.liveCandles.clear();
      this.track('cache', () => this.deps.cache.putCandles(candles).then(() => {}));
    }
    if (this.livePrices.size > 0) {
      const prices = [...this.livePrices.values()];
      this.livePrices.clear();
      this.track('cache', () => this.deps.cache.putPrices(prices).then(() => {}));
    }
  }

  private track(kind: OutputKind, op: () => Promise<void>): void {
    this.inflight.push(
      op().catch((err: unknown) => {
        // Logged once per outage, not once per retried operation.
        if (!isRetriable(err)) this.deps.logger.error({ err, output: kind }, 'durable output failed, not retriable');
        else if (this.failing === undefined)
          this.deps.logger.warn({ err, output: kind }, 'durable output unavailable, retrying');
        this.failing = `${kind} output not stored: ${String(err)}`;
        this.deps.metrics.outputErrors.inc({ output: kind });
        this.failed.push({ kind, op, err });
      }),
    );
  }

  private async publishTraced(
    tracer: Tracer,
    parent: ReturnType<typeof context.active>,
    candles: readonly Candle[],
    alerts: readonly Alert[],
  ): Promise<void> {
    const span = tracer.startSpan(
      'worker.publish',
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'send',
          'messaging.batch.message_count': candles.length + alerts.length,
          'tickmesh.candles': candles.length,
          'tickmesh.alerts': alerts.length,
          'tickmesh.intervals': [...new Set(candles.map((c) => c.interval))],
          'tickmesh.markets': [...new Set(candles.map((c) => `${c.exchange}:${c.symbol}`))].slice(0, 16),
        },
      },
      parent,
    );
    try {
      await this.publishDurable(candles, alerts);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
      throw err;
    } finally {
      span.end();
    }
  }

  private async publishDurable(candles: readonly Candle[], alerts: readonly Alert[]): Promise<void> {
    const { bus } = this.deps;
    await Promise.all([
      ...candles.map((c) =>
        bus.publishDurable(candleSubject('closed', c), candlePayload(c), { msgId: candleMsgId(c) }),
      ),
      ...alerts.map((a) => bus.publishDurable(alertSubject(a), alertPayload(a), { msgId: a.id })),
    ]);
  }
}

/** Keeps `c` in `byKey` if it is the newest of its (market, interval) so far, by open time then revision. */
function keepNewest(byKey: Map<string, Candle>, c: Candle): void {
  const k = `${c.exchange}:${c.symbol}:${c.interval}`;
  const prev = byKey.get(k);
  if (!prev || c.openTime > prev.openTime || (c.openTime === prev.openTime && c.revision >= prev.revision)) {
    byKey.set(k, c);
  }
}
