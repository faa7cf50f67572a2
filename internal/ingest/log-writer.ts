import type { LogProducer, OutgoingRecord } from '../log/log.js';
import { recordsByMarket } from '../log/trade-batch.js';
import type { Trade } from '../market/trade.js';
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
}

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
    return this.inFlightItems + this.trades.length + this.others.length;
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
    this.send(this.topics.trades, records, trades.length);
  }

  private send(topic: string, records: OutgoingRecord[], items: number): void {
    const entry: InFlight = {
      items,
      done: this.producer.send(topic, records).then(
        () => this.settle(entry),
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
