/**
 * The measured load of one partition, as the operator's placement weighs it: the rate at which
 * trades are appended to the partition (its input, trades per second), and how far this worker
 * is behind (lag, records). Pure: times come from the caller.
 *
 * Kafka tells records, not trades: a `trade-batch.v1` record holds several trades of one market,
 * so a busy market's records/s understate its trades/s (and the actors' work is per trade). The
 * rate is the records appended per second times the trades per record among the records this
 * worker processed, both smoothed alike.
 *
 * The rate comes from the high watermark that every fetched batch carries, not from what this
 * worker processed: a saturated worker processes less than arrives, and weighing its partitions by
 * what it managed would hide the very overload the placement should spread. A partition that is
 * paused is fetched from less often; the watermark's advance over the longer gap still gives the
 * right mean. The rate is an exponentially weighted mean over about `timeConstantMs`.
 */
export interface PartitionLoad {
  /** Trades appended per second (smoothed, see above); undefined until one interval was measured. */
  readonly rate: number | undefined;
  /** The latest high watermark seen minus the next offset to process (understated while paused: no fetches). */
  readonly lag: number;
}

export interface LoadMeterOptions {
  /** Smoothing time constant. Default 10,000 ms. */
  readonly timeConstantMs?: number;
  /** Shortest interval between two rate samples (shorter ones are accumulated). Default 1,000 ms. */
  readonly minSampleMs?: number;
  /**
   * The first rate is a mean over at least this long. Default half the time constant: a partition
   * that just moved here must not report one second of its input (a burst, or a lull) as its rate
   * while the other partitions report smoothed ones; until then the operator keeps the previous
   * owner's figure.
   */
  readonly firstSampleMs?: number;
}

export class LoadMeter {
  private readonly tau: number;
  private readonly minSample: number;
  private readonly firstSample: number;
  private baseAt: number | undefined;
  private baseMark = 0n;
  private lastAt = 0;
  private rate: number | undefined;
  private mark = 0n;
  /** Trades per record of the records processed (smoothed); undefined (counted as 1) until a sample saw some. */
  private tradesPerRecord: number | undefined;
  private processedRecords = 0;
  private processedTrades = 0;

  constructor(options: LoadMeterOptions = {}) {
    this.tau = options.timeConstantMs ?? 10_000;
    this.minSample = options.minSampleMs ?? 1_000;
    this.firstSample = Math.max(this.minSample, options.firstSampleMs ?? this.tau / 2);
    if (!(this.tau > 0) || !(this.minSample > 0)) throw new RangeError('timeConstantMs and minSampleMs must be > 0');
  }

  /** A batch was fetched at `at`, when the partition's high watermark was `highWatermark`. */
  observe(at: number, highWatermark: bigint): void {
    this.mark = highWatermark;
    this.lastAt = Math.max(this.lastAt, at);
    if (this.baseAt === undefined) {
      this.baseAt = at;
      this.baseMark = highWatermark;
      return;
    }
    const dt = at - this.baseAt;
    if (dt < (this.rate === undefined ? this.firstSample : this.minSample)) return;
    // A watermark that went back (a recreated topic) counts as no input, not as negative input.
    const appended = highWatermark > this.baseMark ? Number(highWatermark - this.baseMark) : 0;
    this.rate = this.blend(this.rate, (appended * 1000) / dt, dt);
    if (this.processedRecords > 0) {
      const ratio = this.processedTrades / this.processedRecords;
      this.tradesPerRecord = this.blend(this.tradesPerRecord, ratio, dt);
      this.processedRecords = 0;
      this.processedTrades = 0;
    }
    this.baseAt = at;
    this.baseMark = highWatermark;
  }

  /** The runner processed `records` records that held `trades` trades. */
  processed(records: number, trades: number): void {
    this.processedRecords += records;
    this.processedTrades += trades;
  }

  /**
   * The load at `now`, with `nextOffset` the next offset to process. A partition that is fetched
   * from (not paused) but yields no batch has no input: its rate decays as if zero-rate samples
   * had been taken since the last batch.
   */
  snapshot(now: number, paused: boolean, nextOffset: bigint): PartitionLoad {
    const lag = this.mark > nextOffset ? Number(this.mark - nextOffset) : 0;
    const quiet = now - this.lastAt;
    if (this.rate === undefined) return { rate: undefined, lag };
    const records = paused || quiet < this.minSample ? this.rate : this.blend(this.rate, 0, quiet);
    return { rate: records * (this.tradesPerRecord ?? 1), lag };
  }

  private blend(previous: number | undefined, sample: number, dt: number): number {
    if (previous === undefined) return sample;
    const alpha = 1 - Math.exp(-dt / this.tau);
    return previous + alpha * (sample - previous);
  }
}
