/**
 * The Kafka topics ingest writes, defined once. Every command takes flags to override them
 * (`--trades-topic`, `--rejects-topic`, `--gaps-topic`); docs/RECORD-FORMAT.md describes the records.
 */
export interface IngestTopics {
  /** Normalized trades, key `<exchange>:<symbol>`, record `trade.v1`. */
  readonly trades: string;
  /** Input that could not become a trade, with its reason, record `reject.v1`. */
  readonly rejects: string;
  /** Detected jumps in trade ids and what backfill recovered, record `gap.v1`. */
  readonly gaps: string;
}

export const DEFAULT_TOPICS: IngestTopics = Object.freeze({
  trades: 'tickmesh.trades.v1',
  rejects: 'tickmesh.trades.rejected.v1',
  gaps: 'tickmesh.gaps.v1',
});
