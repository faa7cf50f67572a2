import type { LogProducer, OutgoingRecord } from '../log/log.js';
import { tradeRecord } from '../log/record.js';
import type { Trade } from '../market/trade.js';
import { type GapEvent, gapRecord, type Reject, rejectRecord } from './events.js';
import type { IngestTopics } from './topics.js';

export interface TradeSinkOptions {
  readonly producer: LogProducer;
  readonly topics: IngestTopics;
  /** Records per send() call. Default 2,000. */
  readonly batchSize?: number;
  /**
   * Records handed to the producer and not yet acknowledged. Above this, ready() waits for the
   * oldest send: the bound that turns a slow log into a slower ingest. Default 200,000.
   */
  readonly maxInFlight?: number;
  readonly onInFlight?: (records: number) => void;
}

interface InFlight {
  readonly records: number;
  readonly done: Promise<void>;
}

/**
 * Where ingest writes: trades, rejects and gap events, each to its topic, encoded once, batched
 * into send() calls without waiting for each acknowledgement. Per topic, records reach the log
 * in the order they were written here (the producer keeps call order).
 *
 * A failed send is final: the sink remembers the error and every later call throws it, so the
 * owner stops instead of producing around a hole.
 */
export class TradeSink {
  private readonly producer: LogProducer;
  private readonly topics: IngestTopics;
  private readonly batchSize: number;
  private readonly maxInFlight: number;
  private trades: OutgoingRecord[] = [];
  private others: Array<{ topic: string; record: OutgoingRecord }> = [];
  private readonly inFlight: InFlight[] = [];
  private inFlightRecords = 0;
  private scheduled = false;
  private failure: unknown;

  constructor(private readonly options: TradeSinkOptions) {
    this.producer = options.producer;
    this.topics = options.topics;
    this.batchSize = options.batchSize ?? 2_000;
    this.maxInFlight = options.maxInFlight ?? 200_000;
  }

  /** True when the caller should `await ready()` before writing more. */
  get saturated(): boolean {
    return this.inFlightRecords >= this.maxInFlight;
  }

  get pendingRecords(): number {
    return this.inFlightRecords + this.trades.length + this.others.length;
  }

  trade(trade: Trade): void {
    this.check();
    this.trades.push(tradeRecord(trade));
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

  /** Resolves when in-flight records are below the bound; throws the first send failure. */
  async ready(): Promise<void> {
    while (this.inFlightRecords >= this.maxInFlight) {
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
    if (this.others.length > 0) {
      const byTopic = new Map<string, OutgoingRecord[]>();
      for (const { topic, record } of this.others) {
        const list = byTopic.get(topic);
        if (list) list.push(record);
        else byTopic.set(topic, [record]);
      }
      this.others = [];
      for (const [topic, records] of byTopic) this.send(topic, records);
    }
  }

  private sendTrades(): void {
    const records = this.trades;
    this.trades = [];
    this.send(this.topics.trades, records);
  }

  private send(topic: string, records: OutgoingRecord[]): void {
    const entry: InFlight = {
      records: records.length,
      done: this.producer.send(topic, records).then(
        () => this.settle(entry),
        (err: unknown) => {
          this.failure ??= err;
          this.settle(entry);
        },
      ),
    };
    this.inFlight.push(entry);
    this.inFlightRecords += records.length;
    this.options.onInFlight?.(this.inFlightRecords);
  }

  private settle(entry: InFlight): void {
    const i = this.inFlight.indexOf(entry);
    if (i >= 0) this.inFlight.splice(i, 1);
    this.inFlightRecords -= entry.records;
    this.options.onInFlight?.(this.inFlightRecords);
  }
}
