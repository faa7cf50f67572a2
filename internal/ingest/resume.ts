import type { LogConsumer } from '../log/log.js';
import { decodeTrades } from '../log/trade-batch.js';
import { type Trade, tradeKey } from '../market/trade.js';
import type { Logger } from '../observe/logger.js';

export interface ResumeOptions {
  /** The trades topic's end offsets per partition, as the caller read them (LogAdmin.endOffsets). */
  readonly ends: ReadonlyMap<number, bigint>;
  /** A consumer of the trades topic that nothing else uses; left with no partition assigned. */
  readonly consumer: LogConsumer;
  readonly topic: string;
  /** Records read back from the end of each partition. */
  readonly tail: number;
  /** Market keys (`exchange:symbol`) to keep; others are skipped. */
  readonly wanted: (key: string) => boolean;
  /** Ids kept per key, the newest. Default 10,000 (the sequencer's duplicate window). */
  readonly idsPerKey?: number;
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/** What the log holds of one market: its newest trade ids, oldest first, and the newest event time among them. */
export interface ProducedIds {
  readonly ids: string[];
  newestEventTime: number;
}

/**
 * What a restarted ingest process already produced: the trade ids per market key found in the
 * last `tail` records of each partition of the trades topic (a `trade-batch.v1` record gives all
 * its trades), oldest first. Seeded into the
 * sequencers (ProcessorOptions.seed), they make a restart behave like a reconnect: a jump in ids
 * over the downtime is a gap (backfilled where the venue allows, recorded otherwise), trades
 * the venue sends again are dropped, and ids the venue reset over the downtime are told from
 * repeats by the newest event time (sequencer.ts). One market lives on one partition, in production order, so
 * the tail holds a market's latest trades unless the market was quiet while others filled the
 * partition: such a market starts unseeded, as it did before this existed.
 *
 * Stops at `ends`; if `signal` aborts before, returns what it has.
 */
export async function readProducedIds(o: ResumeOptions): Promise<Map<string, ProducedIds>> {
  const perKey = o.idsPerKey ?? 10_000;
  const ids = new Map<string, ProducedIds>();
  const remaining = new Map<number, bigint>();
  for (const [partition, end] of o.ends) {
    if (end <= 0n) continue;
    const from = end > BigInt(o.tail) ? end - BigInt(o.tail) : 0n;
    remaining.set(partition, end);
    await o.consumer.assign(partition, from);
  }
  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  let records = 0;
  let undecodable = 0;
  try {
    if (remaining.size > 0) {
      for await (const batch of o.consumer.batches(signal)) {
        const end = remaining.get(batch.partition);
        if (end === undefined) continue;
        for (const r of batch.records) {
          if (r.offset >= end) break;
          records += 1;
          try {
            const trades = decodeTrades(r.value, r.headers);
            const key = tradeKey(trades[0] as Trade);
            if (!o.wanted(key)) continue;
            let produced = ids.get(key);
            if (!produced) {
              produced = { ids: [], newestEventTime: Number.NEGATIVE_INFINITY };
              ids.set(key, produced);
            }
            const list = produced.ids;
            for (const t of trades) {
              list.push(t.tradeId);
              if (t.eventTime > produced.newestEventTime) produced.newestEventTime = t.eventTime;
            }
            if (list.length > perKey * 2) list.splice(0, list.length - perKey);
          } catch {
            undecodable += 1;
          }
        }
        const last = batch.records.at(-1);
        if (last && last.offset + 1n >= end) {
          remaining.delete(batch.partition);
          await o.consumer.unassign(batch.partition);
          if (remaining.size === 0) stop.abort();
        }
      }
    }
  } finally {
    for (const p of remaining.keys()) await o.consumer.unassign(p);
  }
  for (const produced of ids.values()) {
    if (produced.ids.length > perKey) produced.ids.splice(0, produced.ids.length - perKey);
  }
  const complete = remaining.size === 0;
  o.logger.info(
    { topic: o.topic, records, undecodable, markets: ids.size, complete },
    complete ? 'resumed from the trades already in the log' : 'resume stopped before the end of the log',
  );
  return ids;
}
