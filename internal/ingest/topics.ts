import { KLINES_TOPIC } from '../verify/kline-record.js';

/**
 * The Kafka topics ingest writes, defined once. Every command takes flags to override them
 * (`--trades-topic`, `--rejects-topic`, `--gaps-topic`, `--klines-topic`); docs/RECORD-FORMAT.md
 * describes the records.
 */
export interface IngestTopics {
  /** Normalized trades, key `<exchange>:<symbol>`, record `trade.v1`. */
  readonly trades: string;
  /** Input that could not become a trade, with its reason, record `reject.v1`. */
  readonly rejects: string;
  /** Detected jumps in trade ids and what backfill recovered, record `gap.v1`. */
  readonly gaps: string;
  /**
   * The venues' own kline pushes, key `<exchange>:<symbol>` like trades, record `kline.v1`
   * (internal/verify/kline-record.ts). It has the trades topic's partition count, so that one
   * partition number of both holds a market's trades and its venue's candles. Absent: KLINES_TOPIC.
   */
  readonly klines?: string;
}

export const DEFAULT_TOPICS: Required<IngestTopics> = Object.freeze({
  trades: 'tickmesh.trades.v1',
  rejects: 'tickmesh.trades.rejected.v1',
  gaps: 'tickmesh.gaps.v1',
  klines: KLINES_TOPIC,
});
