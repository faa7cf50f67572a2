import type { Tracer } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import type { LogProducer } from '../log/log.js';
import type { Interval } from '../market/interval.js';
import type { Trade } from '../market/trade.js';
import type { Logger } from '../observe/logger.js';
import type { Component } from '../runtime/component.js';
import { ConfigError } from '../runtime/errors.js';
import type { VenueKlinePush } from '../verify/kline-push.js';
import type { KlineRecord } from '../verify/kline-record.js';
import { Feed, type FeedOptions } from './feed.js';
import { createLogWriter } from './log-writer.js';
import { IngestMetrics } from './metrics.js';
import { TradeProcessor } from './processor.js';
import type { ProxySettings } from './proxy/proxy-rule.js';
import { createProxyTransport } from './proxy/proxy-transport.js';
import type { ProducedIds } from './resume.js';
import { type PlantedDiscrepancy, SimKlineBuilder } from './sim-klines.js';
import { simMarket, simulateTrades } from './simulator.js';
import { DEFAULT_TOPICS, type IngestTopics } from './topics.js';
import type { ConnectionPlan, ParseOutput, VenueAdapter } from './venue.js';
import type { BinanceStream } from './venues/binance.js';
import { createAdapter } from './venues/registry.js';

/** One venue to ingest, as the CLI flags or the config file give it. */
export interface VenueConfig {
  /** `binance`, `binance-futures`, `coinbase`, `kraken`, `okx`, `bybit`, or `sim`. */
  readonly venue: string;
  /** The venue's own symbols (`BTCUSDT`, `BTC-USD`, `BTC/USD`); `sim` takes market ids. */
  readonly symbols: readonly string[];
  readonly wsUrl?: string;
  /** REST base URL for backfill; empty string: no backfill, gaps are recorded. */
  readonly restUrl?: string;
  readonly stream?: BinanceStream;
  readonly staleAfterMs?: number;
  readonly maxStreamsPerConnection?: number;
  readonly apiKey?: string;
  /** `sim` only: mean trades per second per market. */
  readonly rate?: number;
  /** `sim` only. */
  readonly seed?: number;
  /** false: this venue's candle channel is not subscribed (IngestorDeps.klineIntervals). Default true. */
  readonly klines?: boolean;
  /** OKX: base units per contract of swaps and futures (AdapterOptions.contractValues). */
  readonly contractValues?: Readonly<Record<string, string>>;
  /** `sim` only: one discrepancy planted in its klines (sim-klines.ts), to show a mismatch end to end. */
  readonly plantKlineDiscrepancy?: PlantedDiscrepancy;
}

export interface IngestorDeps {
  readonly venues: readonly VenueConfig[];
  readonly producer: LogProducer;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly topics?: IngestTopics;
  /** Defaults for every feed; a venue's own staleAfterMs wins. */
  readonly feed?: Partial<
    Pick<
      FeedOptions,
      | 'pingIntervalMs'
      | 'pongTimeoutMs'
      | 'staleAfterMs'
      | 'reconnectInitialDelayMs'
      | 'reconnectMaxDelayMs'
      | 'queueCapacity'
      | 'maxQueueBytes'
      | 'maxMessageBytes'
      | 'maxFragments'
      | 'handshakeTimeoutMs'
    >
  >;
  readonly maxBackfill?: number;
  readonly backfillTimeoutMs?: number;
  /** How far a trade's event time may lie after its receive time (ProcessorOptions.maxEventSkewMs). */
  readonly maxEventSkewMs?: number;
  /** Trade ids already in the log per market key (see ProcessorOptions.seed and resume.ts). */
  readonly resume?: ReadonlyMap<string, ProducedIds>;
  readonly fetch?: typeof fetch;
  /** HTTPS_PROXY, HTTP_PROXY, NO_PROXY: venue WebSockets and REST calls through a proxy. */
  readonly proxy?: ProxySettings;
  readonly writer?: { readonly batchSize?: number; readonly maxInFlight?: number };
  /** Tracing on: each send of trades is a span whose context the records carry (append-span.ts). */
  readonly tracer?: Tracer;
  /** The trades topic's partition count, for the append spans' attributes. */
  readonly tradePartitions?: number;
  /**
   * Subscribe each venue's candle channel beside its trades for these intervals (those the venue
   * pushes) and append the pushes to the klines topic (`kline.v1`); the simulator publishes its
   * own klines for them. Empty or absent: trades only.
   */
  readonly klineIntervals?: readonly Interval[];
}

export interface FeedStatus {
  readonly venue: string;
  readonly url: string;
  readonly symbols: number;
  readonly connected: boolean;
}

export interface Ingestor extends Component {
  /** Settles when every feed has stopped: rejects with the first failure (a refused produce). */
  readonly done: Promise<void>;
  status(): FeedStatus[];
  /** Why the process is not ready (a feed not connected yet), or undefined. */
  notReadyReason(): string | undefined;
}

/**
 * Live ingest: one feed per planned connection of every configured venue (and the simulator for
 * `sim`), each frame parsed by its venue adapter and passed through the shared processor into
 * the log. start() returns once the feeds are started, not connected; drain() stops taking
 * frames, finishes the ones received and waits for the log to acknowledge them; close(), or
 * aborting the start signal, stops the feeds and leaves what the writer holds unproduced.
 */
export function createIngestor(deps: IngestorDeps): Ingestor {
  if (deps.venues.length === 0) throw new ConfigError('no venue to ingest');
  const logger = deps.logger.child({ component: 'ingest' });
  const metrics = new IngestMetrics(deps.registry);
  const writer = createLogWriter({
    producer: deps.producer,
    topics: deps.topics ?? DEFAULT_TOPICS,
    ...deps.writer,
    ...(deps.tracer ? { tracer: deps.tracer } : {}),
    ...(deps.tradePartitions !== undefined ? { partitions: deps.tradePartitions } : {}),
    onInFlight: (n) => metrics.sinkInFlight.set(n),
    onKlinesAppended: (records) => {
      for (const r of records) metrics.klinesAppended.inc({ venue: r.exchange, interval: r.interval });
    },
  });
  const klineIntervals = deps.klineIntervals ?? [];
  const controller = new AbortController();
  const feeds: Array<{ venue: string; url: string; symbols: number; feed?: Feed }> = [];
  const loops: Promise<void>[] = [];
  let done: Promise<void> = Promise.resolve();
  let failure: unknown;
  /** close() was called: what the writer holds when the feeds stopped is left unproduced. */
  let closing = false;

  function processorFor(venue: string, sequentialIds: boolean, adapter?: VenueAdapter): TradeProcessor {
    return new TradeProcessor({
      venue,
      sequentialIds,
      idSpansTradeCount: adapter?.idSpansTradeCount,
      writer,
      metrics,
      logger,
      backfill: adapter?.backfill,
      recent: adapter?.recent,
      maxBackfill: deps.maxBackfill,
      backfillTimeoutMs: deps.backfillTimeoutMs,
      maxEventSkewMs: deps.maxEventSkewMs,
      seed: deps.resume,
    });
  }

  async function consume(
    feed: Feed,
    { symbols, klinesOnly }: ConnectionPlan,
    adapter: VenueAdapter,
    processor: TradeProcessor,
    withKlines: boolean,
    signal: AbortSignal,
  ) {
    const venue = adapter.venue;
    const messages = metrics.messages.labels(venue);
    const connections = metrics.connections.labels(venue);
    const pending: Trade[] = [];
    let frame = '';
    let receiveTime = 0;
    const out: ParseOutput = {
      trade: (t) => pending.push(t),
      reject: (reason, message, symbol) => processor.reject(reason, message, frame, receiveTime, symbol),
      ...(withKlines
        ? { kline: (p: VenueKlinePush) => appendKline({ ...p, v: 1, exchange: venue, receivedAt: receiveTime }) }
        : {}),
    };
    let open = false;
    try {
      for await (const batch of feed.batches(signal)) {
        for (const ev of batch) {
          if (ev.kind === 'frame') {
            messages.inc();
            frame = ev.data;
            receiveTime = ev.receiveTime;
            adapter.parse(frame, receiveTime, out);
            for (let i = 0; i < pending.length; i++) {
              const waiting = processor.trade(pending[i] as Trade, frame);
              if (waiting) await waiting;
            }
            pending.length = 0;
            if (writer.saturated) await writer.ready();
          } else if (ev.kind === 'open') {
            if (!open) connections.inc();
            open = true;
            if (ev.downMs !== undefined) {
              metrics.reconnectSeconds.observe({ venue }, ev.downMs / 1000);
              if (!klinesOnly) processor.reconnected(symbols);
            }
          } else {
            if (open) connections.dec();
            open = false;
            metrics.reconnects.inc({ venue, reason: ev.reason });
          }
        }
      }
    } finally {
      if (open) connections.dec();
    }
  }

  async function simulate(config: VenueConfig, signal: AbortSignal) {
    const processor = processorFor('sim', true);
    const stream = simulateTrades(
      {
        markets: config.symbols.map(simMarket),
        realtime: true,
        ratePerSecond: config.rate,
        seed: config.seed,
      },
      signal,
    );
    logger.warn({ markets: config.symbols }, 'running the market simulator: trades are synthetic');
    // The simulator publishes its own klines too, as a venue would: final at each window's end.
    const klines =
      klineIntervals.length > 0 ? new SimKlineBuilder(klineIntervals, config.plantKlineDiscrepancy) : undefined;
    if (config.plantKlineDiscrepancy) {
      logger.warn({ ...config.plantKlineDiscrepancy }, 'simulator: a kline discrepancy is planted');
    }
    for await (const t of stream) {
      if (klines) {
        for (const k of klines.advance(t.eventTime, Date.now())) appendKline(k);
        if (!klines.add(t)) continue;
      }
      const waiting = processor.trade(t, () => JSON.stringify(t));
      if (waiting) await waiting;
      if (writer.saturated) await writer.ready();
    }
  }

  function appendKline(record: KlineRecord): void {
    metrics.klinesReceived.inc({ venue: record.exchange, interval: record.interval });
    writer.kline(record);
  }

  function fail(err: unknown): void {
    failure ??= err;
    logger.error({ err }, 'ingest stopped on an error');
    controller.abort(err);
  }

  async function close(): Promise<void> {
    closing = true;
    controller.abort(new Error('close'));
    await Promise.allSettled(loops);
  }

  return {
    get done() {
      return done;
    },

    async start(signal: AbortSignal): Promise<void> {
      // As the Component contract says: aborting the start signal closes; drain() is asked for.
      signal.addEventListener('abort', () => void close(), { once: true });
      const proxy = deps.proxy ? createProxyTransport(deps.proxy) : undefined;
      const venueFetch = deps.fetch ?? proxy?.fetch;
      for (const config of deps.venues) {
        if (config.venue === 'sim') {
          feeds.push({ venue: 'sim', url: 'sim:', symbols: config.symbols.length });
          loops.push(simulate(config, controller.signal).catch(fail));
          continue;
        }
        const venueIntervals = config.klines === false ? [] : klineIntervals;
        const adapter = createAdapter(config.venue, {
          symbols: config.symbols,
          wsUrl: config.wsUrl,
          restUrl: config.restUrl,
          stream: config.stream,
          klineIntervals: venueIntervals,
          maxStreamsPerConnection: config.maxStreamsPerConnection,
          apiKey: config.apiKey,
          fetch: venueFetch,
          ...(config.contractValues ? { contractValues: config.contractValues } : {}),
        });
        await adapter.prepare?.(controller.signal);
        const processor = processorFor(adapter.venue, adapter.sequentialIds, adapter);
        const plans = adapter.plan();
        if (plans.length === 0) throw new ConfigError(`venue ${config.venue}: none of the symbols maps to a market`);
        for (const plan of plans) {
          const feed = new Feed({
            ...deps.feed,
            staleAfterMs: config.staleAfterMs ?? deps.feed?.staleAfterMs,
            venue: adapter.venue,
            plan,
            logger,
            ...(proxy ? { agentFor: proxy.agentFor } : {}),
          });
          feeds.push({ venue: adapter.venue, url: plan.url, symbols: plan.symbols.length, feed });
          loops.push(consume(feed, plan, adapter, processor, venueIntervals.length > 0, controller.signal).catch(fail));
        }
        logger.info(
          {
            venue: adapter.venue,
            symbols: config.symbols.length,
            connections: plans.length,
            backfill: !!adapter.backfill,
          },
          'venue started',
        );
      }
      const sampler = setInterval(() => {
        const depth = new Map<string, number>();
        const bytes = new Map<string, number>();
        for (const f of feeds) {
          if (!f.feed) continue;
          depth.set(f.venue, (depth.get(f.venue) ?? 0) + f.feed.queueDepth);
          bytes.set(f.venue, (bytes.get(f.venue) ?? 0) + f.feed.queueBytes);
        }
        for (const [venue, n] of depth) metrics.queueDepth.set({ venue }, n);
        for (const [venue, n] of bytes) metrics.queueBytes.set({ venue }, n);
      }, 1_000);
      sampler.unref();
      done = Promise.all(loops).then(async () => {
        clearInterval(sampler);
        if (failure !== undefined) throw failure;
        if (!closing) await writer.flush();
      });
      done.catch(() => {});
    },

    async drain(): Promise<void> {
      controller.abort(new Error('drain'));
      await done;
    },

    close,

    status(): FeedStatus[] {
      return feeds.map((f) => ({
        venue: f.venue,
        url: f.url,
        symbols: f.symbols,
        connected: f.feed ? f.feed.connected : !controller.signal.aborted,
      }));
    },

    notReadyReason(): string | undefined {
      const down = feeds.filter((f) => f.feed && !f.feed.connected);
      if (down.length === 0) return undefined;
      return `not connected: ${down.map((f) => `${f.venue} ${f.url}`).join(', ')}`;
    },
  };
}
