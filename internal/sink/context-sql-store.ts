import type { Alert } from '../market/alert.js';
import type { NewsRecord, ReferenceRecord, SentimentRecord } from '../market/context.js';
import {
  firstByKey,
  headlineFromRow,
  headlineRow,
  referenceFromRow,
  referenceRow,
  sentimentFromRow,
  sentimentRow,
} from './context-rows.js';
import {
  INSERT_ALERTS_RETURNING,
  INSERT_HEADLINES,
  INSERT_REFERENCES,
  INSERT_SENTIMENT,
  SELECT_HEADLINES,
  SELECT_LATEST_REFERENCES,
  SELECT_REFERENCES,
  SELECT_SENTIMENT,
} from './context-sql.js';
import type { ContextCommit, ContextCommitted, ContextRange, ContextStore } from './context-store.js';
import { SELECT_CHECKPOINT, UPSERT_CHECKPOINT } from './sql.js';
import type { Row, SqlSession } from './sql-driver.js';
import { alertRow, iso } from './sql-rows.js';

/**
 * The context part of SqlStore (context-store.ts) over one SqlSession; `run` classifies the
 * driver's errors as the store does. The context topics' offsets are checkpoint rows of epoch 0
 * with an empty state: the readers of a context topic are not fenced, because their rows are
 * keyed and a second reader writes nothing new.
 */
export function contextSqlStore(
  db: SqlSession & { transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> },
  run: <T>(fn: () => Promise<T>) => Promise<T>,
): ContextStore {
  const page = async (sql: { range: string; latest: string }, filter: string | null, q: ContextRange) => {
    const limit = q.limit ?? 1_000;
    if (q.from === undefined && q.to === undefined) return run(() => db.query(sql.latest, [filter, limit]));
    const from = q.from === undefined ? null : iso(q.from);
    const to = q.to === undefined ? null : iso(q.to);
    return run(() => db.query(sql.range, [filter, from, to, limit]));
  };
  return {
    async commitContext(c: ContextCommit): Promise<ContextCommitted> {
      if (c.nextOffset < 0n) throw new RangeError('nextOffset must be >= 0');
      const refs = firstByKey(c.references, (r) => `${r.asset}\0${r.time}\0${r.source}`);
      const sents = firstByKey(c.sentiment, (s) => `${s.index}\0${s.time}\0${s.source}`);
      const news = firstByKey(c.news, (n) => `${n.source}\0${n.guid}`);
      return run(() =>
        db.transaction(async (tx) => {
          await tx.query(UPSERT_CHECKPOINT, [c.topic, c.partition, '0', c.nextOffset.toString(), new Uint8Array(0)]);
          const inserted = async <T>(sql: string, items: T[], toRow: (t: T) => Row, key: (r: Row) => string) => {
            if (items.length === 0) return new Set<string>();
            const rows = await tx.query(sql, [JSON.stringify(items.map(toRow))]);
            return new Set(rows.map(key));
          };
          const r = await inserted(INSERT_REFERENCES, refs, referenceRow, (x) => `${x.asset}\0${x.time}\0${x.source}`);
          const s = await inserted(
            INSERT_SENTIMENT,
            sents,
            sentimentRow,
            (x) => `${x.index_name}\0${x.time}\0${x.source}`,
          );
          const n = await inserted(INSERT_HEADLINES, news, headlineRow, (x) => `${x.source}\0${x.guid}`);
          return {
            references: refs.filter((x: ReferenceRecord) => r.has(`${x.asset}\0${x.time}\0${x.source}`)),
            sentiment: sents.filter((x: SentimentRecord) => s.has(`${x.index}\0${x.time}\0${x.source}`)),
            news: news.filter((x: NewsRecord) => n.has(`${x.source}\0${x.guid}`)),
          };
        }),
      );
    },

    async contextOffset(topic: string, partition: number): Promise<bigint | null> {
      const rows = await run(() => db.query(SELECT_CHECKPOINT, [topic, partition]));
      const next = rows[0]?.next_offset;
      return next == null ? null : BigInt(next as string);
    },

    async putAlerts(alerts: readonly Alert[]): Promise<Alert[]> {
      if (alerts.length === 0) return [];
      const unique = firstByKey(alerts, (a) => a.id);
      const rows = await run(() => db.query(INSERT_ALERTS_RETURNING, [JSON.stringify(unique.map(alertRow))]));
      const ids = new Set(rows.map((r) => r.id as string));
      return unique.filter((a) => ids.has(a.id));
    },

    async latestReferences(): Promise<ReferenceRecord[]> {
      return (await run(() => db.query(SELECT_LATEST_REFERENCES))).map(referenceFromRow);
    },

    async references(q): Promise<ReferenceRecord[]> {
      return (await page(SELECT_REFERENCES, q.asset, q)).map(referenceFromRow);
    },

    async sentiment(q): Promise<SentimentRecord[]> {
      return (await page(SELECT_SENTIMENT, q.index, q)).map(sentimentFromRow);
    },

    async news(q): Promise<NewsRecord[]> {
      return (await page(SELECT_HEADLINES, q.asset ?? null, q)).map(headlineFromRow);
    },
  };
}
