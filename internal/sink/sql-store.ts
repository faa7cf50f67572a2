import type { TrendPrediction } from '../actor/output.js';
import type { Alert } from '../market/alert.js';
import type { Candle } from '../market/candle.js';
import type { IndicatorValues } from '../market/indicator-values.js';
import { INTERVALS, type Interval } from '../market/interval.js';
import { FencedError, InputError } from '../runtime/errors.js';
import { contextSqlStore } from './context-sql-store.js';
import type { ContextStore } from './context-store.js';
import {
  ACTOR_STATES_PER_STATEMENT,
  APPLIED_VERSIONS,
  CLAIM,
  CREATE_MIGRATIONS_TABLE,
  createPartitionSql,
  DELETE_ACTOR_STATES,
  DELETE_ALL_ACTOR_STATES,
  DELETE_EXPIRED_ALERTS,
  DELETE_EXPIRED_CANDLES,
  DELETE_EXPIRED_INDICATORS,
  DELETE_EXPIRED_PREDICTIONS,
  DELETE_PARKED,
  dropPartitionSql,
  INSERT_ALERTS,
  INSERT_PREDICTIONS,
  LIST_CANDLE_PARTITIONS,
  LOCK_SCHEMA,
  MIGRATIONS,
  monthStart,
  nextMonthStart,
  partitionMonth,
  RECORD_MIGRATION,
  SELECT_ACTOR_STATES,
  SELECT_ALERTS,
  SELECT_ALERTS_NEWEST,
  SELECT_CANDLES,
  SELECT_CANDLES_BY_VERIFICATION,
  SELECT_CHECKPOINT,
  SELECT_INDEX_STATE,
  SELECT_INDICATORS,
  SELECT_MARKETS,
  SELECT_PARKED,
  SELECT_PARKED_KEYS,
  SELECT_PREDICTIONS,
  UPSERT_CANDLES,
  UPSERT_CHECKPOINT,
  UPSERT_INDEX_STATE,
  UPSERT_INDICATORS,
  UPSERT_PARKED,
  upsertActorStates,
} from './sql.js';
import type { Row, SqlDriver, SqlSession } from './sql-driver.js';
import {
  alertFromRow,
  alertRow,
  bytes,
  candleRow,
  checkpointFrom,
  indicatorFromRow,
  indicatorRow,
  iso,
  latestIndicators,
  latestRevisions,
  predictionFromRow,
  predictionRow,
  storedCandleFromRow,
} from './sql-rows.js';
import type {
  ActorStateChanges,
  AlertQuery,
  CandleQuery,
  Checkpoint,
  CommitBatch,
  IndexState,
  PredictionQuery,
  RefusedRow,
  RefusedRows,
  RetentionPolicy,
  RetentionResult,
  Store,
  StoredMarket,
} from './store.js';
import { verificationSqlStore } from './verification-sql-store.js';
import type { StoredCandle, VerificationStore } from './verification-store.js';

export class SqlStore implements Store {
  /** Month starts whose candle partition is known to exist. */
  private readonly partitions = new Set<number>();

  /** The context tables' part (context-sql-store.ts), on the same database. */
  private readonly context: ContextStore;
  /** The verification part (verification-sql-store.ts), on the same database. */
  private readonly verification: VerificationStore;

  constructor(private readonly db: SqlDriver) {
    this.context = contextSqlStore(db, (fn) => this.run(fn));
    this.verification = verificationSqlStore(db, (fn) => this.run(fn));
  }

  readonly commitVerifications: VerificationStore['commitVerifications'] = (c) =>
    this.verification.commitVerifications(c);
  readonly unverifiedCandles: VerificationStore['unverifiedCandles'] = (q) => this.verification.unverifiedCandles(q);
  readonly verificationCounts: VerificationStore['verificationCounts'] = (q) => this.verification.verificationCounts(q);
  readonly mismatches: VerificationStore['mismatches'] = (q) => this.verification.mismatches(q);

  readonly commitContext: ContextStore['commitContext'] = (c) => this.context.commitContext(c);
  readonly contextOffset: ContextStore['contextOffset'] = (t, p) => this.context.contextOffset(t, p);
  readonly putAlerts: ContextStore['putAlerts'] = (a) => this.context.putAlerts(a);
  readonly latestReferences: ContextStore['latestReferences'] = () => this.context.latestReferences();
  readonly references: ContextStore['references'] = (q) => this.context.references(q);
  readonly sentiment: ContextStore['sentiment'] = (q) => this.context.sentiment(q);
  readonly news: ContextStore['news'] = (q) => this.context.news(q);

  async migrate(): Promise<void> {
    await this.run(() => this.db.prepare());
    await this.run(() =>
      this.db.transaction(async (tx) => {
        await tx.query(LOCK_SCHEMA);
        await tx.exec(CREATE_MIGRATIONS_TABLE);
        const applied = new Set((await tx.query(APPLIED_VERSIONS)).map((r) => Number(r.version)));
        for (const m of MIGRATIONS) {
          if (applied.has(m.version)) continue;
          await tx.exec(m.sql);
          await tx.query(RECORD_MIGRATION, [m.version, m.name]);
        }
      }),
    );
  }

  async loadCheckpoint(topic: string, partition: number): Promise<Checkpoint | null> {
    const rows = await this.run(() => this.db.query(SELECT_CHECKPOINT, [topic, partition]));
    return rows[0] ? checkpointFrom(topic, partition, rows[0]) : null;
  }

  async claim(topic: string, partition: number, epoch: number): Promise<Checkpoint | null> {
    checkEpoch(epoch);
    const rows = await this.run(() => this.db.query(CLAIM, [topic, partition, String(epoch)]));
    if (!rows[0]) throw await this.fenced(topic, partition, epoch);
    return checkpointFrom(topic, partition, rows[0]);
  }

  async commit(batch: CommitBatch): Promise<void> {
    checkEpoch(batch.epoch);
    if (batch.nextOffset < 0n) throw new RangeError('nextOffset must be >= 0');
    const candles = latestRevisions(batch.candles);
    await this.ensurePartitions(candles);
    try {
      await this.run(() => this.writeBatch(batch, candles));
    } catch (err) {
      // Another process dropped a partition this one thought existed (retention): recreate, retry once.
      if (!this.db.isMissingPartition(err)) throw err;
      this.partitions.clear();
      await this.ensurePartitions(candles);
      await this.run(() => this.writeBatch(batch, candles));
    }
  }

  async actorStates(topic: string, partition: number): Promise<Map<string, Uint8Array>> {
    const rows = await this.run(() => this.db.query(SELECT_ACTOR_STATES, [topic, partition]));
    return new Map(rows.map((r) => [String(r.key), bytes(r.state)]));
  }

  async parkedActors(topic: string, partition: number): Promise<Array<{ key: string; watermark: number }>> {
    const rows = await this.run(() => this.db.query(SELECT_PARKED_KEYS, [topic, partition]));
    return rows.map((r) => ({ key: String(r.key), watermark: Number(r.watermark) }));
  }

  async loadParked(topic: string, partition: number, key: string): Promise<Uint8Array | null> {
    const rows = await this.run(() => this.db.query(SELECT_PARKED, [topic, partition, key]));
    return rows[0] ? bytes(rows[0].state) : null;
  }

  async candles(q: CandleQuery): Promise<StoredCandle[]> {
    const sql = q.verification === undefined ? SELECT_CANDLES : SELECT_CANDLES_BY_VERIFICATION[q.verification];
    return (await this.series(sql, q)).map(storedCandleFromRow);
  }

  async predictions(q: PredictionQuery): Promise<TrendPrediction[]> {
    return (await this.series(SELECT_PREDICTIONS, q)).map(predictionFromRow);
  }

  async indicators(q: CandleQuery): Promise<IndicatorValues[]> {
    return (await this.series(SELECT_INDICATORS, q)).map(indicatorFromRow);
  }

  async alerts(q: AlertQuery = {}): Promise<Alert[]> {
    const rows = await this.run(() =>
      this.db.query(q.newest === true && q.limit !== undefined ? SELECT_ALERTS_NEWEST : SELECT_ALERTS, [
        q.exchange ?? null,
        q.symbol ?? null,
        q.from === undefined ? null : iso(q.from),
        q.to === undefined ? null : iso(q.to),
        q.limit ?? 1_000,
        q.kind ?? null,
        q.after === undefined ? null : iso(q.after.time),
        q.after?.id ?? null,
      ]),
    );
    return rows.map(alertFromRow);
  }

  async commitIndex(state: IndexState, alerts: readonly Alert[]): Promise<void> {
    await this.run(() =>
      this.db.transaction(async (tx) => {
        await tx.query(UPSERT_INDEX_STATE, [state.asset, JSON.stringify([...state.diverging].sort())]);
        if (alerts.length > 0) await tx.query(INSERT_ALERTS, [JSON.stringify(alerts.map(alertRow))]);
      }),
    );
  }

  async loadIndexState(asset: string): Promise<IndexState | null> {
    const rows = await this.run(() => this.db.query(SELECT_INDEX_STATE, [asset]));
    if (!rows[0]) return null;
    return { asset, diverging: JSON.parse(String(rows[0].diverging)) as string[] };
  }

  async markets(): Promise<StoredMarket[]> {
    const rows = await this.run(() => this.db.query(SELECT_MARKETS));
    return rows.map((r) => ({ exchange: String(r.exchange), symbol: String(r.symbol), market: String(r.market) }));
  }

  async applyRetention(policy: RetentionPolicy, now: number): Promise<RetentionResult> {
    const deleted: Partial<Record<Interval, number>> = {};
    const predictionsDeleted: Partial<Record<Interval, number>> = {};
    const indicatorsDeleted: Partial<Record<Interval, number>> = {};
    for (const interval of INTERVALS) {
      const keepMs = policy[interval];
      if (keepMs === undefined) continue;
      const rows = await this.run(() => this.db.query(DELETE_EXPIRED_CANDLES, [interval, iso(now - keepMs)]));
      deleted[interval] = Number(rows[0]?.n ?? 0);
      const gone = await this.run(() => this.db.query(DELETE_EXPIRED_PREDICTIONS, [interval, iso(now - keepMs)]));
      predictionsDeleted[interval] = Number(gone[0]?.n ?? 0);
      const ind = await this.run(() => this.db.query(DELETE_EXPIRED_INDICATORS, [interval, iso(now - keepMs)]));
      indicatorsDeleted[interval] = Number(ind[0]?.n ?? 0);
    }
    // A monthly partition holds every interval, so it can go only when every interval expires.
    const dropped: string[] = [];
    const finite = INTERVALS.map((i) => policy[i]);
    if (finite.every((v) => v !== undefined)) {
      const horizon = now - Math.max(...(finite as number[]));
      const names = (await this.run(() => this.db.query(LIST_CANDLE_PARTITIONS))).map((r) => r.name as string);
      for (const name of names) {
        const month = partitionMonth(name);
        if (month === undefined || nextMonthStart(month) > horizon) continue;
        await this.run(() =>
          this.db.transaction(async (tx) => {
            await tx.query(LOCK_SCHEMA);
            await tx.exec(dropPartitionSql(name));
          }),
        );
        this.partitions.delete(month);
        dropped.push(name);
      }
    }
    let alertsDeleted = 0;
    if (policy.alerts !== undefined) {
      const keepMs = policy.alerts;
      const rows = await this.run(() => this.db.query(DELETE_EXPIRED_ALERTS, [iso(now - keepMs)]));
      alertsDeleted = Number(rows[0]?.n ?? 0);
    }
    return { deleted, droppedPartitions: dropped, alertsDeleted, predictionsDeleted, indicatorsDeleted };
  }

  async refused(rows: Pick<CommitBatch, 'candles' | 'alerts'>): Promise<RefusedRows> {
    const candles = latestRevisions(rows.candles);
    await this.ensurePartitions(candles);
    const result = { candles: [] as RefusedRow<Candle>[], alerts: [] as RefusedRow<Alert>[] };
    // Every probe is undone: the transaction is rolled back by throwing this.
    const undo = new Error('probe done');
    try {
      await this.db.transaction(async (tx) => {
        await this.probe(tx, UPSERT_CANDLES, candles, candleRow, result.candles);
        await this.probe(tx, INSERT_ALERTS, rows.alerts, alertRow, result.alerts);
        throw undo;
      });
    } catch (err) {
      if (err !== undo) throw this.db.classify(err);
    }
    return result;
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  private async writeBatch(batch: CommitBatch, candles: readonly Candle[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      const fence = await tx.query(UPSERT_CHECKPOINT, [
        batch.topic,
        batch.partition,
        String(batch.epoch),
        batch.nextOffset.toString(),
        batch.state,
      ]);
      if (!fence[0]) throw await this.fenced(batch.topic, batch.partition, batch.epoch, tx);
      if (candles.length > 0) await tx.query(UPSERT_CANDLES, [JSON.stringify(candles.map(candleRow))]);
      const indicators = latestIndicators(batch.indicators ?? []);
      if (indicators.length > 0) await tx.query(UPSERT_INDICATORS, [JSON.stringify(indicators.map(indicatorRow))]);
      if (batch.alerts.length > 0) await tx.query(INSERT_ALERTS, [JSON.stringify(batch.alerts.map(alertRow))]);
      if (batch.predictions && batch.predictions.length > 0) {
        await tx.query(INSERT_PREDICTIONS, [JSON.stringify(batch.predictions.map(predictionRow))]);
      }
      if (batch.unparked && batch.unparked.length > 0) {
        await tx.query(DELETE_PARKED, [batch.topic, batch.partition, JSON.stringify(batch.unparked)]);
      }
      if (batch.parked && batch.parked.length > 0) {
        const rows = batch.parked.map((p) => ({
          key: p.key,
          watermark: p.watermark,
          state: Buffer.from(p.state.buffer, p.state.byteOffset, p.state.byteLength).toString('hex'),
        }));
        await tx.query(UPSERT_PARKED, [batch.topic, batch.partition, JSON.stringify(rows)]);
      }
      if (batch.actorStates) await writeActorStates(tx, batch.topic, batch.partition, batch.actorStates);
    });
  }

  /**
   * Writes `items` under a savepoint; when the database refuses them with a data error, rolls
   * back to it and halves the set until each refused row stands alone (log2 statements per
   * refused row).
   */
  private async probe<T>(
    tx: SqlSession,
    sql: string,
    items: readonly T[],
    toRow: (item: T) => Row,
    refused: RefusedRow<T>[],
  ): Promise<void> {
    if (items.length === 0) return;
    await tx.exec('SAVEPOINT tickmesh_probe');
    try {
      await tx.query(sql, [JSON.stringify(items.map(toRow))]);
      await tx.exec('RELEASE SAVEPOINT tickmesh_probe');
      return;
    } catch (err) {
      await tx.exec('ROLLBACK TO SAVEPOINT tickmesh_probe');
      await tx.exec('RELEASE SAVEPOINT tickmesh_probe');
      const classified = this.db.classify(err);
      if (!(classified instanceof InputError)) throw classified;
      if (items.length === 1) {
        refused.push({ row: items[0] as T, reason: classified.message });
        return;
      }
    }
    const mid = items.length >> 1;
    await this.probe(tx, sql, items.slice(0, mid), toRow, refused);
    await this.probe(tx, sql, items.slice(mid), toRow, refused);
  }

  /** Creates the monthly partitions the candles fall into, outside the commit transaction. */
  private async ensurePartitions(candles: readonly Candle[]): Promise<void> {
    const months = new Set<number>();
    for (const c of candles) {
      const m = monthStart(c.openTime);
      if (!this.partitions.has(m)) months.add(m);
    }
    if (months.size === 0) return;
    await this.run(() =>
      this.db.transaction(async (tx) => {
        await tx.query(LOCK_SCHEMA);
        for (const m of [...months].sort((a, b) => a - b)) await tx.exec(createPartitionSql(m));
      }),
    );
    for (const m of months) this.partitions.add(m);
  }

  private async fenced(topic: string, partition: number, epoch: number, session: SqlSession = this.db) {
    const rows = await session.query(SELECT_CHECKPOINT, [topic, partition]);
    const holder = rows[0] ? Number(rows[0].epoch) : undefined;
    return new FencedError(`partition ${topic}/${partition}: epoch ${epoch} is fenced by epoch ${holder ?? 'unknown'}`);
  }

  /** A range of one market's series, or its latest rows when the query names no range. */
  private async series(sql: { range: string; latest: string }, q: CandleQuery): Promise<Row[]> {
    const limit = q.limit ?? 1_000;
    if (q.from === undefined && q.to === undefined) {
      return this.run(() => this.db.query(sql.latest, [q.exchange, q.symbol, q.interval, limit]));
    }
    const from = q.from === undefined ? null : iso(q.from);
    const to = q.to === undefined ? null : iso(q.to);
    return this.run(() => this.db.query(sql.range, [q.exchange, q.symbol, q.interval, from, to, limit]));
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.db.classify(err);
    }
  }
}

async function writeActorStates(
  tx: SqlSession,
  topic: string,
  partition: number,
  changes: ActorStateChanges,
): Promise<void> {
  if (changes.replaceAll) await tx.query(DELETE_ALL_ACTOR_STATES, [topic, partition]);
  else if (changes.removed.length > 0) {
    await tx.query(DELETE_ACTOR_STATES, [topic, partition, JSON.stringify(changes.removed)]);
  }
  for (let i = 0; i < changes.changed.length; i += ACTOR_STATES_PER_STATEMENT) {
    const chunk = changes.changed.slice(i, i + ACTOR_STATES_PER_STATEMENT);
    const params: unknown[] = [topic, partition];
    for (const a of chunk) params.push(a.key, a.state);
    await tx.query(upsertActorStates(chunk.length), params);
  }
}

function checkEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError('epoch must be a non-negative integer');
}
