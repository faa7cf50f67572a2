import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { HotCounter, HotHistogram } from '../observe/hot-metrics.js';
import { REJECT_REASONS, type RejectReason } from './events.js';

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter<string> {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[]): Gauge<string> {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

/** The children one market updates per trade, looked up once. */
export interface MarketMetrics {
  readonly trades: { inc(n?: number): void };
  readonly duplicates: { inc(n?: number): void };
  readonly gaps: { inc(n?: number): void };
  readonly resets: { inc(n?: number): void };
  readonly backfilled: { inc(n?: number): void };
  readonly unrecovered: { inc(n?: number): void };
  /** When (Unix ms) this process last handed a trade of the market to the log; 0 before the first. */
  lastTradeAt: number;
}

/**
 * Ingest's Prometheus metrics, registered on the registry it is given (never the global one;
 * one IngestMetrics per registry: a second throws on the names already registered).
 * Counters are per venue and market; latency histograms are per venue only, because a histogram
 * per market multiplies series by the bucket count for every market of a 1024-stream connection.
 * The three updated for every frame or trade (messages, trades, exchange latency) are hot
 * metrics (observe/hot-metrics.ts): prom-client's children cost as much as the rest of a trade.
 */
export class IngestMetrics {
  readonly messages: HotCounter;
  readonly tradesTotal: HotCounter;
  readonly rejects: Counter<string>;
  readonly duplicatesTotal: Counter<string>;
  readonly reconnects: Counter<string>;
  readonly reconnectSeconds: Histogram<string>;
  readonly connections: Gauge<string>;
  readonly gapsTotal: Counter<string>;
  readonly resetsTotal: Counter<string>;
  readonly gapTrades: Counter<string>;
  readonly exchangeLatency: HotHistogram;
  readonly queueDepth: Gauge<string>;
  readonly queueBytes: Gauge<string>;
  readonly sinkInFlight: Gauge<string>;
  readonly lastTradeAge: Gauge<string>;
  readonly klinesReceived: Counter<string>;
  readonly klinesAppended: Counter<string>;
  private readonly markets = new Map<string, MarketMetrics>();
  private readonly latencyChildren = new Map<string, { observe(v: number): void }>();

  constructor(registry: Registry) {
    this.messages = new HotCounter({
      name: 'tickmesh_ingest_messages_total',
      help: 'Frames received from venues.',
      labelNames: ['venue'],
      registry,
    });
    this.tradesTotal = new HotCounter({
      name: 'tickmesh_ingest_trades_total',
      help: 'Trades handed to the log.',
      labelNames: ['venue', 'market'],
      registry,
    });
    this.rejects = counter(registry, 'tickmesh_ingest_rejects_total', 'Inputs rejected, by reason.', [
      'venue',
      'reason',
    ]);
    this.duplicatesTotal = counter(
      registry,
      'tickmesh_ingest_duplicates_total',
      'Trades received more than once (reconnect overlap) and produced once.',
      ['venue', 'market'],
    );
    this.reconnects = counter(
      registry,
      'tickmesh_ingest_reconnects_total',
      'Connections lost, by reason (message-too-big and too-many-fragments: closed with 1009 by the WebSocket limits).',
      ['venue', 'reason'],
    );
    this.reconnectSeconds = new Histogram({
      name: 'tickmesh_ingest_reconnect_seconds',
      help: 'From a lost venue connection to the next one opened: the time without a live feed.',
      labelNames: ['venue'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    });
    this.connections = gauge(registry, 'tickmesh_ingest_connections', 'Open venue connections.', ['venue']);
    this.gapsTotal = counter(registry, 'tickmesh_ingest_gaps_total', 'Jumps in a venue trade id sequence.', [
      'venue',
      'market',
    ]);
    this.resetsTotal = counter(
      registry,
      'tickmesh_ingest_id_resets_total',
      'Times a venue restarted a market trade id numbering (an id at or below the last, dated after every trade seen).',
      ['venue', 'market'],
    );
    this.gapTrades = counter(
      registry,
      'tickmesh_ingest_gap_trades_total',
      'Trades missing from the live stream: backfilled over REST, or unrecovered.',
      ['venue', 'market', 'outcome'],
    );
    this.exchangeLatency = new HotHistogram({
      name: 'tickmesh_ingest_exchange_latency_seconds',
      help: 'Receive time minus exchange trade time.',
      labelNames: ['venue'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registry,
    });
    this.queueDepth = gauge(registry, 'tickmesh_ingest_queue_depth', 'Frames received and not yet processed.', [
      'venue',
    ]);
    this.queueBytes = gauge(
      registry,
      'tickmesh_ingest_queue_bytes',
      'Bytes of frames received and not yet processed (bounded per connection: --queue-mb).',
      ['venue'],
    );
    this.sinkInFlight = gauge(
      registry,
      'tickmesh_ingest_inflight_records',
      'Trades and events handed to the log and not yet acknowledged (bounded).',
      [],
    );
    this.klinesReceived = counter(
      registry,
      'tickmesh_ingest_klines_received_total',
      "Pushes read from the venues' candle channels, by interval.",
      ['venue', 'interval'],
    );
    this.klinesAppended = counter(
      registry,
      'tickmesh_ingest_klines_appended_total',
      'Kline pushes the log acknowledged on the klines topic, by interval.',
      ['venue', 'interval'],
    );
    const markets = this.markets;
    this.lastTradeAge = new Gauge({
      name: 'tickmesh_ingest_last_trade_age_seconds',
      help: 'Seconds since the newest trade of a market was received (the freshness of its feed); a market appears with its first trade.',
      labelNames: ['venue', 'market'],
      registers: [registry],
      // Computed at scrape time, so a silent feed ages without any code running for it.
      collect() {
        const now = Date.now();
        for (const [key, m] of markets) {
          if (m.lastTradeAt === 0) continue;
          const [venue, market] = key.split('\u0000') as [string, string];
          this.set({ venue, market }, Math.max(0, now - m.lastTradeAt) / 1000);
        }
      },
    });
  }

  market(venue: string, market: string): MarketMetrics {
    const key = `${venue}\u0000${market}`;
    let m = this.markets.get(key);
    if (!m) {
      m = {
        trades: this.tradesTotal.labels(venue, market),
        duplicates: this.duplicatesTotal.labels(venue, market),
        gaps: this.gapsTotal.labels(venue, market),
        resets: this.resetsTotal.labels(venue, market),
        backfilled: this.gapTrades.labels(venue, market, 'backfilled'),
        unrecovered: this.gapTrades.labels(venue, market, 'unrecovered'),
        lastTradeAt: 0,
      };
      // Exported at 0 from the market's first trade: a rate over a counter that appears already
      // counting misses its first increase.
      m.backfilled.inc(0);
      m.unrecovered.inc(0);
      this.markets.set(key, m);
    }
    return m;
  }

  latency(venue: string): { observe(v: number): void } {
    let h = this.latencyChildren.get(venue);
    if (!h) {
      h = this.exchangeLatency.labels(venue);
      this.latencyChildren.set(venue, h);
    }
    return h;
  }

  /** Every reject reason of `venue` exported at 0, so the first reject shows as an increase. */
  venue(venue: string): void {
    for (const reason of REJECT_REASONS) this.rejects.inc({ venue, reason }, 0);
  }

  reject(venue: string, reason: RejectReason): void {
    this.rejects.inc({ venue, reason });
  }
}
