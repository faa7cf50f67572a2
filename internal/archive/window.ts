import type { Trade } from '../market/trade.js';
import { dateHour, type FileKey, fileKey, type Resume, type WindowRange } from './layout.js';

/**
 * One partition's open window of the trades archive (pure). A window is a run of consecutive
 * records of one partition; when it closes, its trades become one file per market and event
 * hour, every file named by the window's offset range.
 *
 * A window closes before the first record whose log time falls in a later roll period (an hour
 * by default), after the record that brings it to `maxTrades` trades, when its roll period has
 * passed on the wall clock with nothing more to read (closeIfDue), or on drain (closeNow).
 * Exactly once does not depend on where those boundaries fall: a restart re-reads only the last
 * window, with its end taken from its files' names (the `resume` window), and writes only the
 * files of it that are missing; the same records give the same files under the same names.
 */
export interface ArchiveRow {
  readonly market: string;
  readonly tradeId: string;
  /** Exact decimal strings, as on the topic; the writer stores them as DECIMAL(38, 18). */
  readonly price: string;
  readonly size: string;
  readonly side: 'buy' | 'sell';
  /** Epoch microseconds. */
  readonly eventTimeUs: bigint;
  readonly receiveTimeUs: bigint;
  readonly simulated: boolean;
  readonly tradeCount: number;
  readonly partition: number;
  readonly offset: bigint;
  /** Position of the trade within its record (a trade-batch record holds several). */
  readonly index: number;
}

export interface ArchiveFile {
  readonly key: string;
  readonly rows: readonly ArchiveRow[];
}

export interface ClosedWindow {
  readonly range: WindowRange;
  /** The window's files in key order; already-written ones (after a restart) left out. */
  readonly files: readonly ArchiveFile[];
}

export interface WindowPolicy {
  /** The roll period of log time, ms: 3 600 000 rolls hourly. */
  readonly rollMs: number;
  /** A window closes once it holds this many trades (bounds the archiver's memory). */
  readonly maxTrades: number;
}

export interface ArchivedRecord {
  readonly offset: bigint;
  /** Log (append) time, epoch ms. */
  readonly timestamp: number;
  /** The record's trades, in order; empty when it could not be decoded (counted by the caller). */
  readonly trades: readonly Trade[];
}

/** A decimal that DECIMAL(38, 18) holds exactly: at most 20 integer and 18 fraction digits. */
const DECIMAL_38_18 = /^\d{1,20}(\.\d{1,18})?$/;

/** Why a trade cannot be archived exactly; undefined when it can. */
export function unarchivable(t: Trade): string | undefined {
  if (!DECIMAL_38_18.test(t.price)) return 'price does not fit DECIMAL(38, 18)';
  if (!DECIMAL_38_18.test(t.size)) return 'size does not fit DECIMAL(38, 18)';
  return undefined;
}

const micros = (ms: number): bigint => BigInt(Math.round(ms * 1000));

interface Open {
  readonly from: bigint;
  to: bigint;
  readonly period: number;
  trades: number;
  readonly groups: Map<string, ArchiveRow[]>;
}

export class PartitionWindow {
  private open: Open | undefined;
  /** The recovered last window: it must end exactly at `resume.last.to`. */
  private resume: Resume | undefined;

  constructor(
    readonly partition: number,
    private readonly policy: WindowPolicy,
    resume?: Resume,
  ) {
    this.resume = resume;
  }

  /** Where to start reading: the recovered window's start, or undefined (the partition's start). */
  startOffset(): bigint | undefined {
    return this.resume ? this.resume.last.from : undefined;
  }

  /**
   * Adds a record's archivable trades (`onReject` is told of the others); returns the windows
   * this closes, oldest first.
   */
  add(record: ArchivedRecord, onReject: (trade: Trade, reason: string) => void): ClosedWindow[] {
    const closed: ClosedWindow[] = [];
    const period = Math.floor(record.timestamp / this.policy.rollMs);
    const forced = this.resume;
    if (forced && record.offset > forced.last.to) {
      // Past the recovered window's end (its last records no longer on the topic): it ends here.
      if (this.open) closed.push(this.close());
      else this.resume = undefined;
    }
    if (forced && record.offset < forced.last.from) return closed;
    if (this.open && !this.resume && period > this.open.period) closed.push(this.close());
    const w = this.open ?? this.begin(record.offset, period);
    w.to = record.offset;
    for (const [index, t] of record.trades.entries()) {
      const reason = unarchivable(t);
      if (reason !== undefined) {
        onReject(t, reason);
        continue;
      }
      const { date, hour } = dateHour(t.eventTime);
      const group = `${t.exchange}\u0000${t.symbol}\u0000${date}\u0000${hour}`;
      let rows = w.groups.get(group);
      if (!rows) {
        rows = [];
        w.groups.set(group, rows);
      }
      rows.push({
        market: t.market,
        tradeId: t.tradeId,
        price: t.price,
        size: t.size,
        side: t.side,
        eventTimeUs: micros(t.eventTime),
        receiveTimeUs: micros(t.receiveTime),
        simulated: t.simulated === true,
        tradeCount: t.tradeCount ?? 1,
        partition: this.partition,
        offset: record.offset,
        index,
      });
      w.trades++;
    }
    if (this.resume ? record.offset >= this.resume.last.to : w.trades >= this.policy.maxTrades) {
      closed.push(this.close());
    }
    return closed;
  }

  /** Trades held in the open window. */
  held(): number {
    return this.open?.trades ?? 0;
  }

  /** Closes the open window if its roll period ended `graceMs` before `now` (nothing more came). */
  closeIfDue(now: number, graceMs: number): ClosedWindow | undefined {
    const w = this.open;
    if (!w || this.resume) return undefined;
    return now >= (w.period + 1) * this.policy.rollMs + graceMs ? this.close() : undefined;
  }

  /**
   * Closes the open window now (on drain). A recovered window that has not reached its recorded
   * end is dropped instead: the next start re-reads it.
   */
  closeNow(): ClosedWindow | undefined {
    if (!this.open || this.resume) return undefined;
    return this.close();
  }

  private begin(from: bigint, period: number): Open {
    this.open = { from, to: from, period, trades: 0, groups: new Map() };
    return this.open;
  }

  private close(): ClosedWindow {
    const w = this.open as Open;
    const written = this.resume?.written;
    this.open = undefined;
    this.resume = undefined;
    const range: WindowRange = { partition: this.partition, from: w.from, to: w.to };
    const files: ArchiveFile[] = [];
    for (const [group, rows] of w.groups) {
      const [exchange, symbol, date, hour] = group.split('\u0000') as [string, string, string, string];
      const k: FileKey = { exchange, symbol, date, hour: Number(hour), ...range };
      const key = fileKey(k);
      if (!written?.has(key)) files.push({ key, rows });
    }
    files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { range, files };
  }
}
