import type { Tracer } from '@opentelemetry/api';
import type { Headers, LogProducer, OutgoingRecord } from '../log/log.js';
import { SCHEMA_HEADER } from '../log/record.js';
import { recordsByMarket } from '../log/trade-batch.js';
import type { Trade } from '../market/trade.js';
import {
  encodeKlineRecord,
  KLINE_SCHEMA_V1,
  KLINES_TOPIC,
  type KlineRecord,
  klineRecordKey,
} from '../verify/kline-record.js';
import { appendTraced } from './append-span.js';
import { type GapEvent, gapRecord, type Reject, rejectRecord } from './events.js';
import type { IngestTopics } from './topics.js';

export interface LogWriterOptions {
  readonly producer: LogProducer;
  readonly topics: IngestTopics;
  /** Trades per send() call at most. Default 20,000. */
  readonly batchSize?: number;
  /**
   * Trades and events handed to the producer and not yet acknowledged. Above this, ready() waits
   * for the oldest send: the bound that turns a slow log into a slower ingest. Default 200,000.
   */
  readonly maxInFlight?: number;
  readonly onInFlight?: (items: number) => void;
  /**
   * Traces each send of trades (AppendSpans): only when tracing is on; without it the writer
   * does no span or header work.
   */
  readonly tracer?: Tracer;
  /** The trades topic's partition count, when known: the append span names the partitions it writes. */
  readonly partitions?: number;
  /** Called with the kline records of a send once the log acknowledged them. */
  readonly onKlinesAppended?: (records: readonly KlineRecord[]) => void;
}

const KLINE_HEADERS: Headers = Object.freeze({ [SCHEMA_HEADER]: KLINE_SCHEMA_V1 });

interface InFlight {
  /** Trades and events in the send (a trade-batch record counts its trades). */
  readonly items: number;
  readonly done: Promise<void>;
}

/**
 * Where ingest writes: trades, rejects and gap events, each to its topic, batched into send()
 * calls without waiting for each acknowledgement. The trades of one market gathered for a send
 * go in one record (`trade-batch.v1`, docs/RECORD-FORMAT.md; a market with one trade in the send
 * gets a `trade.v1` record), so the producer's cost per record is paid per market and send, not
 * per trade. Per market, and per topic for events, records reach the log in the order they were
 * written here (the producer keeps call order); markets' records interleave by market instead.
 *
 * A failed send is final: the writer remembers the error and every later call throws it, so the
 * owner stops instead of producing around a hole.
 */
export class LogWriter {
  private readonly producer: LogProducer;
  private readonly topics: IngestTopics;
  private readonly batchSize: number;
  private readonly maxInFlight: number;
  /** Trades gathered for the next send, in arrival order. */
  private trades: Trade[] = [];
  private others: Array<{ topic: string; record: OutgoingRecord }> = [];
  /** Kline pushes gathered for the next send, in arrival order. */
  private klines: KlineRecord[] = [];
  private readonly inFlight: InFlight[] = [];
  private inFlightItems = 0;
  private scheduled = false;
  private failure: unknown;

  constructor(private readonly options: LogWriterOptions) {
    this.producer = options.producer;
    this.topics = options.topics;
    this.batchSize = options.batchSize ?? 20_000;
    this.maxInFlight = options.maxInFlight ?? 200_000;
  }

  /** True when the caller should `await ready()` before writing more. */
  get saturated(): boolean {
    return this.inFlightItems >= this.maxInFlight;
  }

  /** Trades and events written and not yet acknowledged. */
  get pendingRecords(): number {
    return this.inFlightItems + this.trades.length + this.others.length + this.klines.length;
  }

  trade(trade: Trade): void {
    this.check();
    this.trades.push(trade);
    if (this.trades.length >= this.batchSize) this.sendTrades();
    else this.schedule();
  }

  reject(reject: Reject): void {
    this.check();
    this.others.push({ topic: this.topics.rejects, record: rejectRecord(reject) });
    this.schedule();
  }

  gap(gap: GapEvent): void {
    this.check();
    this.others.push({ topic: this.topics.gaps, record: gapRecord(gap) });
    this.schedule();
  }

  /**
   * A venue's kline push, to the klines topic (`kline.v1`, keyed like the market's trades). Per
   * market, klines reach the log in the order they were written, in the same sends as the trades
   * written before them: a kline never overtakes the trades received before it by more than one
   * send.
   */
  kline(record: KlineRecord): void {
    this.check();
    this.klines.push(record);
    this.schedule();
  }

  /** Resolves when in-flight records are below the bound; throws the first send failure. */
  async ready(): Promise<void> {
    while (this.inFlightItems >= this.maxInFlight) {
      const oldest = this.inFlight[0];
      if (!oldest) break;
      await oldest.done;
    }
    this.check();
  }

  /** Sends what is batched and waits until the log acknowledged everything written so far. */
  async flush(): Promise<void> {
    this.sendAll();
    while (this.inFlight.length > 0) await this.inFlight[0]?.done;
    this.check();
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // After the current burst of frames: everything written in this turn goes in one send.
    setImmediate(() => {
      this.scheduled = false;
      if (this.failure === undefined) this.sendAll();
    });
  }

  private sendAll(): void {
    if (this.trades.length > 0) this.sendTrades();
    if (this.klines.length > 0) this.sendKlines();
    if (this.others.length > 0) {
      const byTopic = new Map<string, OutgoingRecord[]>();
      for (const { topic, record } of this.others) {
        const list = byTopic.get(topic);
        if (list) list.push(record);
        else byTopic.set(topic, [record]);
      }
      this.others = [];
      for (const [topic, records] of byTopic) this.send(topic, records, records.length);
    }
  }

  private sendTrades(): void {
    const trades = this.trades;
    this.trades = [];
    let records: OutgoingRecord[];
    try {
      records = recordsByMarket(trades);
    } catch (err) {
      // The processor's checks keep every field encodable (validate.ts); a trade that still is
      // not fails the writer like a failed send: the owner stops rather than skip it.
      this.failure ??= err;
      return;
    }
    const tracer = this.options.tracer;
    if (tracer === undefined) this.send(this.topics.trades, records, trades.length);
    else
      this.send(this.topics.trades, records, trades.length, () =>
        appendTraced(tracer, this.producer, this.topics.trades, records, trades.length, this.options.partitions),
      );
  }

  private sendKlines(): void {
    const klines = this.klines;
    this.klines = [];
    const records = klines.map(
      (k): OutgoingRecord => ({
        key: klineRecordKey(k),
        value: Buffer.from(encodeKlineRecord(k)),
        headers: KLINE_HEADERS,
      }),
    );
    const appended = this.options.onKlinesAppended;
    this.send(
      this.topics.klines ?? KLINES_TOPIC,
      records,
      records.length,
      undefined,
      appended && (() => appended(klines)),
    );
  }

  private send(
    topic: string,
    records: OutgoingRecord[],
    items: number,
    produce: () => Promise<void> = () => this.producer.send(topic, records),
    acknowledged?: () => void,
  ): void {
    const entry: InFlight = {
      items,
      done: produce().then(
        () => {
          acknowledged?.();
          this.settle(entry);
        },
        (err: unknown) => {
          this.failure ??= err;
          this.settle(entry);
        },
      ),
    };
    this.inFlight.push(entry);
    this.inFlightItems += items;
    this.options.onInFlight?.(this.inFlightItems);
  }

  private settle(entry: InFlight): void {
    const i = this.inFlight.indexOf(entry);
    if (i >= 0) this.inFlight.splice(i, 1);
    this.inFlightItems -= entry.items;
    this.options.onInFlight?.(this.inFlightItems);
  }
}

/** Makes the writer of normalized trades to the log. */
export function createLogWriter(options: LogWriterOptions): LogWriter {
  return new LogWriter(options);
}
