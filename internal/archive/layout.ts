/**
 * Where the trades archive puts a file, and what a file's name says (pure).
 *
 *   <prefix>exchange=<exchange>/symbol=<symbol>/date=<YYYY-MM-DD>/hour=<HH>/
 *     part-<partition>-<from>-<to>.parquet
 *
 * `exchange`, `symbol`, date and hour (UTC, of the trade's event time) are Hive partitions;
 * their values are percent-encoded (a Kraken symbol holds a `/`), as Hive and DuckDB decode them.
 * `from` and `to` are the first and last Kafka offset of the archiver's window of `partition`
 * that the file belongs to (every file of one window carries the same range), zero-padded so that
 * names sort by offset. The range is the archive's own progress: nothing else records it.
 */
export interface FileKey {
  readonly exchange: string;
  readonly symbol: string;
  /** UTC date and hour of the trades' event time. */
  readonly date: string;
  readonly hour: number;
  readonly partition: number;
  readonly from: bigint;
  readonly to: bigint;
}

/** A window's place in a partition: the offsets its files name. */
export interface WindowRange {
  readonly partition: number;
  readonly from: bigint;
  readonly to: bigint;
}

export const PARQUET_SUFFIX = '.parquet';
const OFFSET_DIGITS = 20;
const NAME = /^part-(\d+)-(\d{20})-(\d{20})\.parquet$/;

const encode = (v: string): string => encodeURIComponent(v);

/** UTC date and hour of an instant (epoch ms). */
export function dateHour(epochMs: number): { date: string; hour: number } {
  const iso = new Date(epochMs).toISOString();
  return { date: iso.slice(0, 10), hour: Number(iso.slice(11, 13)) };
}

/** The object key (relative to the archive's root, `/`-separated) of a file. */
export function fileKey(k: FileKey): string {
  const hour = String(k.hour).padStart(2, '0');
  const from = k.from.toString().padStart(OFFSET_DIGITS, '0');
  const to = k.to.toString().padStart(OFFSET_DIGITS, '0');
  return (
    `exchange=${encode(k.exchange)}/symbol=${encode(k.symbol)}/date=${k.date}/hour=${hour}/` +
    `part-${k.partition}-${from}-${to}${PARQUET_SUFFIX}`
  );
}

/** The window a key's file belongs to; undefined for anything that is not an archive file. */
export function parseFileKey(key: string): WindowRange | undefined {
  const m = NAME.exec(key.slice(key.lastIndexOf('/') + 1));
  if (!m) return undefined;
  return { partition: Number(m[1]), from: BigInt(m[2] as string), to: BigInt(m[3] as string) };
}

/**
 * Where each partition resumes, from the keys that exist: at the start of its last window, whose
 * files may be incomplete (a crash between two of them); that window is re-read to its recorded
 * end and only its missing files are written. Partitions with no file are absent.
 */
export interface Resume {
  readonly last: WindowRange;
  /** Keys of `last`'s files that exist. */
  readonly written: ReadonlySet<string>;
}

export function resumePoints(keys: Iterable<string>): Map<number, Resume> {
  const last = new Map<number, { range: WindowRange; written: Set<string> }>();
  for (const key of keys) {
    const range = parseFileKey(key);
    if (!range) continue;
    const seen = last.get(range.partition);
    if (!seen || range.to > seen.range.to) {
      last.set(range.partition, { range, written: new Set([key]) });
    } else if (range.to === seen.range.to) {
      seen.written.add(key);
    }
  }
  return new Map([...last].map(([p, v]) => [p, { last: v.range, written: v.written }]));
}
