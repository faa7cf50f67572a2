import { createMemoryBus } from '../../internal/bus/memory-bus.js';
import { DEV_FLAGS } from '../../internal/config/dev.js';
import { flagHelp, parseFlags } from '../../internal/config/parse-flags.js';
import { parseWorkerOptions, type WorkerOptions } from '../../internal/config/worker.js';
import { createContextIngestor } from '../../internal/ingest/context/context-ingestor.js';
import { DEFAULT_CONTEXT_TOPICS } from '../../internal/ingest/context/records.js';
import { contextSimulatorSources } from '../../internal/ingest/context/simulator.js';
import { createIngestor, type VenueConfig } from '../../internal/ingest/ingestor.js';
import { DEFAULT_TOPICS } from '../../internal/ingest/topics.js';
import { combinedStreamUrl } from '../../internal/ingest/venues/binance.js';
import { WebSocketClient } from '../../internal/ingest/websocket/client.js';
import type { LogAdmin } from '../../internal/log/log.js';
import { createMemoryLog } from '../../internal/log/memory-log.js';
import type { Interval } from '../../internal/market/interval.js';
import { startProbeServer } from '../../internal/observe/http-server.js';
import { LogTail } from '../../internal/observe/log-tail.js';
import { createLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { ConfigError } from '../../internal/runtime/errors.js';
import { apiConfig } from '../../internal/serve/api-config.js';
import { createApiServer } from '../../internal/serve/api-server.js';
import { startTerminalView } from '../../internal/serve/terminal-view.js';
import { createMemoryCache } from '../../internal/sink/memory-cache.js';
import { createPgliteStore } from '../../internal/sink/pglite-store.js';
import { createContextHost } from '../../internal/worker/context-host.js';
import { createContextRecorder } from '../../internal/worker/context-recorder.js';
import { createIndexHost } from '../../internal/worker/index-host.js';
import { marketActorFactory } from '../../internal/worker/market-actors.js';
import { createWorkerMetrics } from '../../internal/worker/metrics.js';
import { reconcilerHostConfig, workerActorConfig, workerConfig } from '../../internal/worker/options.js';
import { createReconcilerHost } from '../../internal/worker/reconciler-host.js';
import { assignStatic } from '../../internal/worker/static-placement.js';
import { createVerificationMetrics } from '../../internal/worker/verification-metrics.js';
import { createWorker } from '../../internal/worker/worker.js';
import type { Command } from './command.js';

const HELP = `tickmesh dev: every role in one process, no servers to install

Runs ingest, worker, the API with the web dashboard (http://127.0.0.1:8080/) and a live
terminal view of candles on the in-process adapters: an
in-process log in place of Kafka, an in-process bus in place of NATS, PGlite (PostgreSQL in
WebAssembly) in place of PostgreSQL, and memory in place of Redis. The same actors and SQL as
a deployment. Trades come live from Binance when it is reachable, otherwise from the built-in
market simulator (said so in the log and on screen). Reference data, Fear & Greed and headlines
are simulated (source "simulated", headlines marked [SIMULATED]; --context off for none).

options:
${flagHelp(DEV_FLAGS)}
`;

export const devCommand: Command = {
  name: 'dev',
  help: HELP,
  async run(argv, signal) {
    const values = parseFlags(DEV_FLAGS, argv, {});
    const { source, partitions, rate } = values;
    const view = !values.noView;
    // With the view on a terminal, log lines for people go under the view's table (LogTail).
    const logTail = view && process.stdout.isTTY ? new LogTail(6, process.stderr) : undefined;
    const logger = createLogger({
      level: values.logLevel ?? (logTail ? 'warn' : 'info'),
      destination: logTail ?? process.stdout,
      pretty: logTail ? true : undefined,
    });

    // Probe the URL the feed will connect to: the adapter adds `/stream` to a bare base URL.
    const live =
      source === 'binance' || (source === 'auto' && (await reachable(combinedStreamUrl(values.wsUrl), 3_000)));
    if (source === 'binance' && !live) throw new ConfigError('binance is not reachable');
    const plant = values.plantKlineDiscrepancy;
    if (plant && !list(values.markets).includes(plant.market)) {
      throw new ConfigError(`--plant-kline-discrepancy: ${plant.market} is not one of --markets`);
    }
    const venues: VenueConfig[] = live
      ? [{ venue: 'binance', symbols: list(values.symbols), wsUrl: values.wsUrl }]
      : [{ venue: 'sim', symbols: list(values.markets), rate, ...(plant ? { plantKlineDiscrepancy: plant } : {}) }];
    const sourceLabel = live ? 'binance live' : 'SIMULATED (exchange unreachable)';
    if (!live) logger.warn({ markets: list(values.markets) }, 'exchange not reachable: running the market simulator');

    const registry = createRegistry({ role: 'dev' });
    const log = createMemoryLog();
    const admin = log.admin();
    const options = parseWorkerOptions({
      intervals: values.intervals,
      'idle-grace-ms': '3000',
      'drain-timeout-ms': '20000',
      'rejected-topic': DEFAULT_TOPICS.rejects,
    });
    await ensureDevTopics(admin, partitions, options);
    const bus = createMemoryBus();
    const cache = createMemoryCache();
    const store = await createPgliteStore({ dataDir: values.dataDir || undefined });
    const workerIntervals = options.intervals;
    // The live reconciler beside the market actors: judges each closed candle against the klines
    // the ingestor (or the simulator) appends to the klines topic (docs/WORKER.md, "Verified candles").
    const reconciler =
      values.klines === 'on' && options.verify
        ? createReconcilerHost({
            consumer: log.consumer(options.klinesTopic),
            store,
            bus,
            logger,
            metrics: createVerificationMetrics(registry),
            clock: Date.now,
            config: reconcilerHostConfig(options, partitions),
          })
        : undefined;
    const worker = createWorker({
      consumer: log.consumer(DEFAULT_TOPICS.trades),
      producer: log.producer(),
      store,
      bus,
      cache,
      actors: marketActorFactory(workerActorConfig(options)),
      logger,
      metrics: createWorkerMetrics(registry),
      clock: Date.now,
      config: workerConfig(options),
      companion: reconciler,
    });
    // The venue's own klines beside its trades (the simulator publishes its own) for every candle
    // interval but 1s, which no venue's futures and not every venue's spot publishes.
    const ingestor = createIngestor({
      venues,
      producer: log.producer(),
      logger,
      registry,
      klineIntervals: values.klines === 'on' ? workerIntervals.filter((i) => i !== '1s') : [],
    });
    const api = createApiServer({
      store: store.share(),
      cache,
      bus,
      logger,
      registry,
      config: apiConfig({
        intervals: workerIntervals,
        dashboardInterval: workerIntervals.includes(values.interval as Interval) ? (values.interval as Interval) : '1m',
        source: { label: sourceLabel, simulated: !live },
        retention: options.retention,
        listen: { port: values.apiPort, host: values.apiHost },
      }),
      dependencies: { worker: () => worker.notReadyReason(), ingest: () => ingestor.notReadyReason() },
    });
    const probes = await startProbeServer(
      {
        registry,
        healthy: () => worker.healthy(),
        notReadyReason: () => worker.notReadyReason() ?? ingestor.notReadyReason(),
      },
      values.metricsPort,
      '127.0.0.1',
    );
    logger.info({ port: probes.port, source: sourceLabel, partitions }, 'tickmesh dev started');

    const run = new AbortController();
    await reconciler?.start(run.signal);
    await worker.start(run.signal);
    // After the worker has migrated the schema, before trades flow: a port in use fails at once.
    await api.start(run.signal);
    const indexHost = createIndexHost({ bus, store, logger, owns: () => options.indexActors });
    await indexHost.start(run.signal);
    await assignStatic(
      worker,
      store,
      DEFAULT_TOPICS.trades,
      Array.from({ length: partitions }, (_, p) => p),
    );
    await ingestor.start(run.signal);
    // Context: simulated (labelled in every record), through the worker's recorder, tables and routes.
    const withContext = values.context === 'sim';
    const contextIngestor = withContext
      ? createContextIngestor({
          sources: contextSimulatorSources({ assets: devAssets(live ? list(values.symbols) : list(values.markets)) }),
          producer: log.producer(),
          topics: DEFAULT_CONTEXT_TOPICS,
          logger: logger.child({ part: 'context' }),
          registry,
        })
      : undefined;
    const recorder = withContext
      ? createContextRecorder({
          topics: DEFAULT_CONTEXT_TOPICS,
          consumer: async (topic) => log.consumer(topic),
          admin,
          store,
          bus,
          cache,
          logger,
          registry,
          owns: () => true,
        })
      : undefined;
    const contextHost = withContext ? createContextHost({ bus, store, logger, owns: () => true }) : undefined;
    if (withContext) {
      for (const topic of Object.values(DEFAULT_CONTEXT_TOPICS)) await admin.ensureTopic(topic, 1);
      await recorder?.start(run.signal);
      await contextHost?.start(run.signal);
      contextIngestor?.start(run.signal);
      logger.warn({}, 'context: SIMULATED reference data, sentiment and headlines (source "simulated")');
    }
    const viewDone = view
      ? startTerminalView(
          {
            bus,
            out: process.stdout,
            interval: values.interval,
            // On a terminal the view is all there is to read: it carries the dashboard's address.
            source: process.stdout.isTTY ? `${sourceLabel} · dashboard ${api.url}/` : sourceLabel,
            refreshMs: 500,
            logTail,
          },
          run.signal,
        )
      : Promise.resolve();

    const failure = await new Promise<Error | undefined>((resolve) => {
      if (signal.aborted) resolve(undefined);
      signal.addEventListener('abort', () => resolve(undefined), { once: true });
      ingestor.done.catch(() => resolve(undefined));
      void worker.failed.then(resolve);
    });
    if (failure) logger.fatal({ err: failure }, 'worker failed; exiting');
    logger.warn('draining: committing a final checkpoint per partition');
    await api.drain().catch((err: unknown) => logger.error({ err }, 'api drain failed'));
    await ingestor.drain().catch((err: unknown) => logger.error({ err }, 'ingest drain failed'));
    await contextIngestor?.drain();
    await worker.drain();
    await reconciler?.drain();
    await indexHost.close();
    await contextHost?.close();
    await recorder?.close();
    run.abort();
    await viewDone.catch(() => {});
    await Promise.all([probes.close(), store.close(), bus.close(), cache.close(), log.producer().close()]);
    return failure ? 1 : 0;
  },
};

/**
 * Every topic dev's roles write, on its in-process log: the trades (`partitions` partitions),
 * ingest's rejects and gaps, the worker's late and rejected trades (one partition each). A write
 * to a topic that does not exist is not retriable, and before this only the trades topic existed:
 * the first rejected trade made ingest exit, the first late one stopped a partition.
 */
export async function ensureDevTopics(
  admin: Pick<LogAdmin, 'ensureTopic'>,
  partitions: number,
  worker: Pick<WorkerOptions, 'lateTopic' | 'rejectedTopic'>,
): Promise<string[]> {
  await admin.ensureTopic(DEFAULT_TOPICS.trades, partitions);
  // The venue's (or the simulator's) klines, keyed like trades: the same partition count.
  await admin.ensureTopic(DEFAULT_TOPICS.klines, partitions);
  const others = [...new Set([DEFAULT_TOPICS.rejects, DEFAULT_TOPICS.gaps, worker.lateTopic, worker.rejectedTopic])];
  for (const topic of others) await admin.ensureTopic(topic, 1);
  return [DEFAULT_TOPICS.trades, DEFAULT_TOPICS.klines, ...others];
}

/** The base assets of dev's markets (`BTC-USDT`) or Binance symbols (`BTCUSDT`), once each. */
export function devAssets(names: readonly string[]): string[] {
  const quotes = /(USDT|USDC|FDUSD|BUSD|USD|EUR|BTC|ETH)$/;
  const assets = names.map((n) =>
    n.includes('-') ? (n.split('-')[0] as string) : n.toUpperCase().replace(quotes, ''),
  );
  return [...new Set(assets.filter((a) => a.length > 0))];
}

function list(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}

/** Whether a WebSocket handshake with `url` completes within `timeoutMs`, by the feeds' own client. */
function reachable(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let opened = false;
    const ws = new WebSocketClient(
      url,
      { handshakeTimeoutMs: timeoutMs, maxPayload: 1 << 20 },
      {
        open: () => {
          opened = true;
          ws.terminate();
        },
        text: () => {},
        binary: () => {},
        pong: () => {},
        error: () => {},
        close: () => resolve(opened),
      },
    );
  });
}
