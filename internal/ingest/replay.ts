import { setTimeout as sleep } from 'node:timers/promises';
import type { Trade } from '../market/trade.js';
import type { Logger } from '../observe/logger.js';
import { binanceCaptureSource } from './captures/binance-capture.js';
import { openCapture } from './captures/capture-file.js';
import type { RejectReason } from './events.js';
import { readTradeFileBatches, type TradeFileOptions } from './files/index.js';
import type { LogWriter } from './log-writer.js';
import type { IngestMetrics } from './metrics.js';
import { TradeProcessor } from './processor.js';

/** One thing read from a replay source: a trade, or an input that could not become one. */
export type ReplayItem =
  | { readonly kind: 'trade'; readonly trade: Trade }
  | {
      readonly kind: 'reject';
      readonly venue: string;
      readonly reason: RejectReason;
      readonly message: string;
      readonly raw: string;
      readonly receiveTime: number;
      readonly symbol?: string;
    };

export interface ReplayProgress {
  /** Items read from the source (trades and rejects). */
  readonly read: number;
  readonly produced: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly gaps: number;
  readonly elapsedMs: number;
  /** Produced trades per second of wall time so far. */
  readonly ratePerSecond: number;
  /** Event time of the last trade read. */
  readonly eventTime: number | undefined;
  readonly done: boolean;
}

export interface ReplayDeps {
  readonly writer: LogWriter;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
}

export interface ReplayOptions {
  /** Times real time (event-time gaps divided by speed), or `max`: as fast as the log takes it. */
  readonly speed: number | 'max';
  readonly signal: AbortSignal;
  readonly onProgress?: (p: ReplayProgress) => void;
  /** Default 1 s. */
  readonly progressIntervalMs?: number;
}

/** Venues whose trade ids are consecutive per market: a jump in a file is reported as a gap. */
const SEQUENTIAL = new Set(['binance', 'binance-futures', 'coinbase', 'kraken', 'sim']);

/**
 * Feeds a source into the log with the live path's normalization (validation, dedupe, gap
 * reports; no backfill), paced by event time. Resolves with the final progress once the log has
 * acknowledged every produced trade.
 */
export async function replay(
  source: AsyncIterable<readonly ReplayItem[]>,
  deps: ReplayDeps,
  options: ReplayOptions,
): Promise<ReplayProgress> {
  const processors = new Map<string, TradeProcessor>();
  const processorFor = (venue: string): TradeProcessor => {
    let p = processors.get(venue);
    if (!p) {
      p = new TradeProcessor({
        venue,
        sequentialIds: SEQUENTIAL.has(venue),
        writer: deps.writer,
        metrics: deps.metrics,
        logger: deps.logger,
        observeLatency: false,
      });
      processors.set(venue, p);
    }
    return p;
  };
  const speed = options.speed;
  if (speed !== 'max' && !(speed > 0)) throw new RangeError('speed must be a positive number or max');
  const started = performance.now();
  let read = 0;
  let firstEvent: number | undefined;
  let lastEvent: number | undefined;
  let lastReport = started;
  const interval = options.progressIntervalMs ?? 1_000;

  const progress = (done: boolean): ReplayProgress => {
    const totals = { produced: 0, duplicates: 0, rejected: 0, gaps: 0 };
    for (const p of processors.values()) {
      totals.produced += p.stats.produced;
      totals.duplicates += p.stats.duplicates;
      totals.rejected += p.stats.rejected;
      totals.gaps += p.stats.gaps;
    }
    const elapsedMs = performance.now() - started;
    return {
      read,
      ...totals,
      elapsedMs,
      ratePerSecond: elapsedMs > 0 ? (totals.produced * 1000) / elapsedMs : 0,
      eventTime: lastEvent,
      done,
    };
  };

  for await (const batch of source) {
    options.signal.throwIfAborted();
    for (const item of batch) {
      read += 1;
      if (item.kind === 'reject') {
        processorFor(item.venue).reject(item.reason, item.message, item.raw, item.receiveTime, item.symbol);
        continue;
      }
      const t = item.trade;
      if (speed !== 'max') {
        firstEvent ??= t.eventTime;
        const due = started + (t.eventTime - firstEvent) / speed;
        const wait = due - performance.now();
        if (wait >= 1) {
          await sleep(wait, undefined, { signal: options.signal }).catch(() => undefined);
          options.signal.throwIfAborted();
        }
      }
      lastEvent = t.eventTime;
      const waiting = processorFor(t.exchange).trade(t, () => JSON.stringify(t));
      if (waiting) await waiting;
      if (deps.writer.saturated) await deps.writer.ready();
    }
    const now = performance.now();
    if (options.onProgress && now - lastReport >= interval) {
      lastReport = now;
      options.onProgress(progress(false));
    }
  }
  await deps.writer.flush();
  const final = progress(true);
  options.onProgress?.(final);
  return final;
}

/** A trade file (tardis, Binance trades or aggTrades CSV, JSON lines) as a replay source. */
export async function* tradeFileSource(opts: TradeFileOptions): AsyncGenerator<ReplayItem[]> {
  const fallbackVenue = opts.exchange ?? (opts.format === 'tardis' || opts.format === 'jsonl' ? 'file' : 'binance');
  for await (const batch of readTradeFileBatches(opts)) {
    const items: ReplayItem[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const it = batch[i] as (typeof batch)[number];
      if (it.kind === 'trade') items[i] = { kind: 'trade', trade: it.trade };
      else {
        const fileLevel = it.reason === 'bad-columns' || it.reason === 'bad-header' || it.reason === 'bad-json';
        items[i] = {
          kind: 'reject',
          venue: fallbackVenue,
          reason: fileLevel || it.reason === 'bad-trade-count' ? 'malformed-line' : it.reason,
          message: `line ${it.line}: ${it.message}`,
          raw: it.text,
          receiveTime: Date.now(),
        };
      }
    }
    yield items;
  }
}

/**
 * A raw Binance WebSocket capture as a replay source: every frame goes through the Binance
 * adapter configured as the capture subscribed, so frames that are not trades are ignored and
 * malformed ones rejected, exactly as live.
 */
export async function* captureSource(path: string, signal?: AbortSignal): AsyncGenerator<ReplayItem[]> {
  const capture = await openCapture(path);
  const { adapter } = binanceCaptureSource(capture.header);
  let batch: ReplayItem[] = [];
  let raw = '';
  let receiveTime = 0;
  const out = {
    trade: (trade: Trade) => batch.push({ kind: 'trade', trade }),
    reject: (reason: RejectReason, message: string, symbol?: string) =>
      batch.push({
        kind: 'reject',
        venue: adapter.venue,
        reason,
        message,
        raw,
        receiveTime,
        ...(symbol !== undefined ? { symbol } : {}),
      }),
  };
  for await (const frame of capture.frames(signal)) {
    raw = frame.data;
    receiveTime = Number.isNaN(frame.receiveTime) ? Date.now() : frame.receiveTime;
    if (Number.isNaN(frame.receiveTime)) out.reject('malformed-line', 'capture line is not `<time>: <frame>`');
    else adapter.parse(frame.data, frame.receiveTime, out);
    if (batch.length >= 1000) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
