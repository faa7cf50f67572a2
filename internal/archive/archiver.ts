import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LogConsumer, LogRecord, RecordBatch } from '../log/log.js';
import { decodeTrades } from '../log/trade-batch.js';
import type { Trade } from '../market/trade.js';
import type { Logger } from '../observe/logger.js';
import type { Component } from '../runtime/component.js';
import { InputError } from '../runtime/errors.js';
import type { ArchiveStore } from './archive-store.js';
import { resumePoints } from './layout.js';
import type { ParquetWriter } from './parquet-writer.js';
import { type ArchivedRecord, type ClosedWindow, PartitionWindow, type WindowPolicy } from './window.js';

/**
 * The trades archive: every partition of the trades topic into Parquet files (layout.ts), exactly
 * once. Progress lives only in the files' names: start() lists the archive, resumes each
 * partition at its last window (window.ts) and reads the others from their first record. One
 * archiver per archive: two would each write their own windows of the same records.
 */
export interface ArchiverDeps {
  readonly consumer: LogConsumer;
  /** The trades topic's partition count. */
  readonly partitions: number;
  readonly store: ArchiveStore;
  readonly writer: ParquetWriter;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly policy: WindowPolicy;
  /** How long after its roll period a window of a caught-up partition waits for more records. */
  readonly graceMs: number;
  readonly now?: () => number;
}

export interface Archiver extends Component {
  /** Resolves when the archiver stops; rejects with the error that stopped it. */
  readonly done: Promise<void>;
  /** Why it is not ready, or undefined. */
  notReadyReason(): string | undefined;
}

interface PartitionState {
  readonly window: PartitionWindow;
  /** Offset after the last record read, and the partition's end as of the last fetch. */
  next: bigint;
  highWatermark: bigint;
}

const TICK_MS = 1_000;

export function createArchiver(deps: ArchiverDeps): Archiver {
  const logger = deps.logger.child({ component: 'archiver' });
  const now = deps.now ?? Date.now;
  const trades = new Counter({
    name: 'tickmesh_archive_trades_total',
    help: 'Trades written to the archive',
    registers: [deps.registry],
  });
  const files = new Counter({
    name: 'tickmesh_archive_files_total',
    help: 'Parquet files written to the archive',
    registers: [deps.registry],
  });
  const rejected = new Counter({
    name: 'tickmesh_archive_rejected_total',
    help: 'Records or trades the archive could not hold (undecodable record, decimal out of range)',
    labelNames: ['reason'],
    registers: [deps.registry],
  });
  const openTrades = new Gauge({
    name: 'tickmesh_archive_open_trades',
    help: 'Trades held in open windows',
    registers: [deps.registry],
  });
  const states = new Map<number, PartitionState>();
  const loop = new AbortController();
  let chain: Promise<void> = Promise.resolve();
  let started = false;
  let failure: unknown;
  let finish: (err?: unknown) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    finish = (err) => (err === undefined ? resolve() : reject(err));
  });
  done.catch(() => {});

  /** Runs `work` after everything queued before it: batches, ticks and the drain never interleave. */
  function serialized(work: () => Promise<void>): Promise<void> {
    const next = chain.then(work);
    chain = next.catch(() => {});
    return next;
  }

  const onReject = (t: Trade, reason: string): void => {
    rejected.inc({ reason: 'decimal-out-of-range' });
    logger.warn({ exchange: t.exchange, symbol: t.symbol, tradeId: t.tradeId, reason }, 'trade not archivable');
  };

  function decode(partition: number, r: LogRecord): ArchivedRecord {
    try {
      return { offset: r.offset, timestamp: r.timestamp, trades: decodeTrades(r.value, r.headers) };
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      rejected.inc({ reason: err.reason });
      logger.warn({ partition, offset: r.offset.toString(), reason: err.reason }, 'record not decodable');
      return { offset: r.offset, timestamp: r.timestamp, trades: [] };
    }
  }

  async function write(w: ClosedWindow): Promise<void> {
    let count = 0;
    for (const f of w.files) {
      const path = join(deps.store.stagingDir, `${randomBytes(8).toString('hex')}.parquet.tmp`);
      try {
        await deps.writer.write(path, f.rows);
        await deps.store.put(f.key, path);
      } finally {
        await rm(path, { force: true });
      }
      files.inc();
      count += f.rows.length;
    }
    trades.inc(count);
    logger.info(
      {
        partition: w.range.partition,
        from: w.range.from.toString(),
        to: w.range.to.toString(),
        files: w.files.length,
        trades: count,
      },
      'archive window written',
    );
  }

  async function closed(windows: readonly ClosedWindow[]): Promise<void> {
    for (const w of windows) await write(w);
  }

  const held = (): number => {
    let n = 0;
    for (const s of states.values()) n += s.window.held();
    return n;
  };

  async function handle(batch: RecordBatch): Promise<void> {
    const state = states.get(batch.partition);
    if (!state) return;
    state.highWatermark = batch.highWatermark;
    for (const r of batch.records) {
      const record = decode(batch.partition, r);
      const shut = state.window.add(record, onReject);
      state.next = r.offset + 1n;
      if (shut.length > 0) await closed(shut);
    }
    openTrades.set(held());
  }

  async function tick(): Promise<void> {
    for (const state of states.values()) {
      if (state.next < state.highWatermark) continue;
      const w = state.window.closeIfDue(now(), deps.graceMs);
      if (w) await closed([w]);
    }
    openTrades.set(held());
  }

  async function run(): Promise<void> {
    const timer = setInterval(() => {
      serialized(tick).catch(fail);
    }, TICK_MS);
    try {
      for await (const batch of deps.consumer.batches(loop.signal)) {
        await serialized(() => handle(batch));
      }
    } finally {
      clearInterval(timer);
    }
  }

  function fail(err: unknown): void {
    if (failure !== undefined) return;
    failure = err;
    logger.error({ err }, 'archiver failed');
    loop.abort();
    finish(err);
  }

  return {
    done,
    notReadyReason: () => (failure !== undefined ? 'archiver failed' : started ? undefined : 'starting'),
    async start(signal) {
      const existing = await deps.store.list();
      const resume = resumePoints(existing);
      for (let p = 0; p < deps.partitions; p++) {
        const window = new PartitionWindow(p, deps.policy, resume.get(p));
        const from = window.startOffset() ?? 0n;
        states.set(p, { window, next: from, highWatermark: 0n });
        await deps.consumer.assign(p, from);
      }
      logger.info(
        {
          location: deps.store.location,
          files: existing.length,
          resumed: [...resume].map(([p, r]) => ({
            partition: p,
            from: r.last.from.toString(),
            to: r.last.to.toString(),
          })),
        },
        'archive resumed',
      );
      signal.addEventListener('abort', () => loop.abort(), { once: true });
      started = true;
      run().then(() => {
        if (failure === undefined) finish();
      }, fail);
    },
    async drain() {
      loop.abort();
      await done.catch(() => {});
      if (failure !== undefined) throw failure;
      await serialized(async () => {
        for (const state of states.values()) {
          const w = state.window.closeNow();
          if (w) await closed([w]);
        }
      });
    },
    async close() {
      loop.abort();
      await done.catch(() => {});
    },
  };
}
