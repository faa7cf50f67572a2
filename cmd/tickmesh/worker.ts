import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Bus } from '../../internal/bus/bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { ENDPOINT_FLAGS, ENDPOINT_HELP, parseEndpoints, requireEndpoints } from '../../internal/config/endpoints.js';
import { readArgs } from '../../internal/config/parse-flags.js';
import {
  parseWorkerOptions,
  WORKER_FLAGS,
  WORKER_FLAGS_HELP,
  type WorkerOptions,
} from '../../internal/config/worker.js';
import { awaitTopics, createKafkaAdmin, type KafkaLogAdmin } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import { createKafkaProducer } from '../../internal/log/kafka-producer.js';
import type { LogConsumer } from '../../internal/log/log.js';
import { startProbeServer } from '../../internal/observe/http-server.js';
import { createLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { otlpExporterFromEnv, startTracing } from '../../internal/observe/tracing.js';
import { createHeartbeatMonitor } from '../../internal/operator/liveness.js';
import { ConfigError } from '../../internal/runtime/errors.js';
import { createStartupGate } from '../../internal/runtime/startup-gate.js';
import { refreshModels } from '../../internal/sink/postgres-models.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { createRedisCache } from '../../internal/sink/redis-cache.js';
import type { Store } from '../../internal/sink/store.js';
import { createContextHost } from '../../internal/worker/context-host.js';
import { createContextRecorder } from '../../internal/worker/context-recorder.js';
import { createEndOffsetProbe } from '../../internal/worker/end-offset-probe.js';
import { startHeartbeat } from '../../internal/worker/heartbeat.js';
import { createIndexHost, ownerOf } from '../../internal/worker/index-host.js';
import { marketActorFactory } from '../../internal/worker/market-actors.js';
import { createWorkerMetrics } from '../../internal/worker/metrics.js';
import { createModelRefresher } from '../../internal/worker/model-refresher.js';
import { reconcilerHostConfig, workerActorConfig, workerConfig } from '../../internal/worker/options.js';
import { createPlacementFollower, type PlacementFollower } from '../../internal/worker/placement-follower.js';
import { createReconcilerHost, type ReconcilerHost } from '../../internal/worker/reconciler-host.js';
import { assignStatic } from '../../internal/worker/static-placement.js';
import { createVerificationMetrics } from '../../internal/worker/verification-metrics.js';
import { createWorker, type Worker } from '../../internal/worker/worker.js';
import type { Command } from './command.js';

const HELP = `tickmesh worker: run placed partitions of the trades topic through the market actors

Reads each placed partition from its last checkpoint, builds candles, indicators and alerts, and
commits them with the checkpoint to PostgreSQL in one transaction (exactly once, fenced by the
placement epoch); publishes live and closed candles and alerts on NATS and the latest candles
in Redis. With --context (the default) one worker also records the reference, sentiment and
news topics into PostgreSQL (exactly once), and each asset's context actor joins price and
volume spikes with its headlines into news_spike alerts (docs/SOURCES.md).
SIGTERM drains: finishes queued records and commits a final checkpoint per partition.
Traces go to OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.

endpoints (flags override the environment):
${ENDPOINT_HELP}

options:
${WORKER_FLAGS_HELP}
`;

/** The placement key of the context topics' recorder (never an asset: assets have no `@`). */
const CONTEXT_KEY = '@context-topics';

/** The klines and context topics' consumers: the longest a fetch waits at the broker (at least --fetch-max-wait-ms). */
const SIDE_FETCH_MAX_WAIT_MS = 1_000;

/** How often the worker reads its topic's end offsets (EndOffsetProbe): the lag's resolution while paused. */
const END_OFFSET_INTERVAL_MS = 5_000;

export const workerCommand: Command = {
  name: 'worker',
  help: HELP,
  async run(argv, signal) {
    const flags = readArgs({ ...ENDPOINT_FLAGS, ...WORKER_FLAGS }, argv);
    const endpoints = parseEndpoints(flags, process.env);
    const options = parseWorkerOptions(flags, process.env);
    requireEndpoints(endpoints, ['kafkaBrokers', 'databaseUrl', 'natsUrl', 'redisUrl']);

    const logger = createLogger({ level: options.logLevel });
    const exporter = otlpExporterFromEnv(process.env);
    const tracing = startTracing({ serviceName: 'tickmesh-worker', exporter });
    const registry = createRegistry({ role: 'worker' });
    const clientId = `tickmesh-worker-${hostname()}-${process.pid}`;
    const kafka = { brokers: endpoints.kafkaBrokers, security: endpoints.kafkaSecurity, clientId, logger };
    const fetching = { maxWaitTimeMs: options.fetchMaxWaitMs, minBytes: options.fetchMinBytes };
    // The klines and context consumers wait longer between empty fetches: nothing waits on their
    // first fetch after an assign, while a moved trades partition does.
    const sideFetching = { ...fetching, maxWaitTimeMs: Math.max(options.fetchMaxWaitMs, SIDE_FETCH_MAX_WAIT_MS) };
    // The probes first: a server that does not answer or refuses us shows as not Ready, with the
    // reason on /readyz and in one log line, while this process retries (StartupGate).
    const gate = createStartupGate({ logger, signal });
    let serving: Worker | undefined;
    const probes = await startProbeServer(
      {
        registry,
        healthy: () => serving?.healthy() ?? true,
        notReadyReason: () => gate.reason() ?? serving?.notReadyReason(),
      },
      options.port,
    );
    const stopEarly = async (closing: readonly (() => Promise<void>)[] = []): Promise<number> => {
      await Promise.allSettled(closing.map((close) => close()));
      await probes.close();
      await tracing.shutdown();
      return 0;
    };
    const topics = [options.topic, options.lateTopic, options.rejectedTopic];
    const counts = await gate.until('kafka', () => awaitTopics({ ...kafka, quiet: true }, { topics, logger, signal }));
    if (!counts) return stopEarly();
    const partitionCount = counts.get(options.topic) ?? 0;
    const store = createPostgresStore({
      connectionString: endpoints.databaseUrl,
      security: endpoints.postgresSecurity,
      schema: options.schema,
      applicationName: clientId,
    });
    const migrated = await gate.until('postgres', async () => {
      await store.migrate();
      return true;
    });
    if (!migrated) return stopEarly([() => store.close()]);
    const bus = await gate.until('nats', () =>
      createNatsBus({ servers: endpoints.natsUrl, security: endpoints.natsSecurity, name: clientId, logger }),
    );
    if (!bus) return stopEarly([() => store.close()]);
    const cache = createRedisCache({ url: endpoints.redisUrl, security: endpoints.redisSecurity });
    const producer = await createKafkaProducer({ ...kafka, registry });
    const consumer = await createKafkaConsumer({ ...kafka, ...fetching, topic: options.topic });
    const admin = await createKafkaAdmin(kafka);
    const reconciler = options.verify
      ? await createVerification(options, partitionCount, {
          admin,
          kafka: { ...kafka, ...sideFetching },
          store,
          bus,
          logger,
          registry,
        })
      : undefined;
    await reconciler?.host.start(signal);
    const worker = createWorker({
      consumer,
      producer,
      store,
      bus,
      cache,
      actors: marketActorFactory(workerActorConfig(options)),
      logger,
      metrics: createWorkerMetrics(registry),
      clock: Date.now,
      config: workerConfig(options),
      tracer: tracing.enabled ? tracing.tracer : undefined,
      companion: reconciler?.host,
    });
    serving = worker;
    gate.open();

    const run = new AbortController();
    await worker.start(run.signal);
    const endOffsets = createEndOffsetProbe({
      admin,
      topic: options.topic,
      worker,
      intervalMs: END_OFFSET_INTERVAL_MS,
      clock: Date.now,
      logger,
    });
    endOffsets.start(run.signal);
    // Index actors: all of them here without an operator; with one, those whose asset hashes to this member.
    let members: readonly string[] = options.podName ? [options.podName] : [];
    const owns = (asset: string) =>
      options.indexActors && (options.placement === 'static' || ownerOf(asset, members) === options.podName);
    const indexHost = createIndexHost({ bus, store, logger, owns });
    await indexHost.start(run.signal);
    // The context topics: recorded by one worker (the owner of CONTEXT_KEY); each asset's context
    // actor runs where its index actor does (docs/SOURCES.md).
    const placed = (key: string) => options.placement === 'static' || ownerOf(key, members) === options.podName;
    const recorder = options.context
      ? createContextRecorder({
          topics: { reference: options.referenceTopic, sentiment: options.sentimentTopic, news: options.newsTopic },
          consumer: (topic) =>
            createKafkaConsumer({ ...kafka, ...sideFetching, clientId: `${clientId}-context`, topic }),
          admin,
          store,
          bus,
          cache,
          logger,
          registry,
          owns: () => placed(CONTEXT_KEY),
        })
      : undefined;
    await recorder?.start(run.signal);
    const contextHost = options.context ? createContextHost({ bus, store, logger, owns: placed }) : undefined;
    await contextHost?.start(run.signal);
    // The SQL models on a schedule: every worker runs the schedule, one at a time refreshes.
    const models =
      options.modelsRefreshEvery > 0
        ? createModelRefresher({
            refresh: (signal) =>
              refreshModels(
                {
                  connectionString: endpoints.databaseUrl,
                  security: endpoints.postgresSecurity,
                  schema: options.schema,
                  applicationName: `${clientId}-models`,
                },
                { ifBusy: 'skip', signal },
              ),
            everyMs: options.modelsRefreshEvery * 1000,
            clock: Date.now,
            logger,
            registry,
          })
        : undefined;
    models?.start(run.signal);
    let follower: PlacementFollower | undefined;
    if (options.placement === 'operator') {
      const self = options.podName as string;
      const peers = createHeartbeatMonitor({ bus, logger });
      peers.start(run.signal);
      follower = createPlacementFollower({
        worker,
        bus,
        bucket: options.placementBucket,
        self,
        logger,
        registry,
        handoffWaitMs: options.handoffWaitMs,
        releaseWaitMs: options.releaseWaitMs,
        peers,
        clock: Date.now,
        onMembers: (m) => {
          members = m;
        },
      });
      await follower.start(run.signal);
      startHeartbeat(bus, self, (now) => worker.partitionLoads(now), 500, run.signal);
      logger.info({ member: self, bucket: options.placementBucket, port: probes.port }, 'worker running');
    } else {
      const partitions =
        options.partitions === 'all' ? Array.from({ length: partitionCount }, (_, p) => p) : options.partitions;
      const missing = partitions.filter((p) => p >= partitionCount);
      if (missing.length > 0) throw new ConfigError(`topic ${options.topic} has no partition ${missing.join(', ')}`);
      await assignStatic(worker, store, options.topic, partitions);
      logger.info({ partitions, port: probes.port }, 'worker running');
    }

    // A fatal failure (worker.failed: neither a data error nor retriable) ends the process with 1
    // after the other partitions are handed over: the platform restarts it, and nothing retries
    // what cannot succeed.
    const failure = await new Promise<Error | undefined>((resolve) => {
      if (signal.aborted) resolve(undefined);
      signal.addEventListener('abort', () => resolve(undefined), { once: true });
      void worker.failed.then(resolve);
    });
    if (failure) logger.fatal({ err: failure }, 'worker failed; exiting for a restart');
    logger.info('draining');
    let code = failure ? 1 : 0;
    try {
      // Under the operator: hand the partitions off as it moves them away (the pod is terminating).
      await follower?.drain(options.handoffWaitMs);
      await worker.drain();
      await reconciler?.host.drain();
      await indexHost.close();
      await contextHost?.close();
      await recorder?.close();
    } catch (err) {
      logger.error({ err }, 'drain failed');
      code = 1;
    }
    run.abort();
    await endOffsets.close();
    await models?.close();
    await Promise.allSettled([
      consumer.close(),
      reconciler?.consumer.close(),
      producer.close(),
      admin.close(),
      bus.close(),
      cache.close(),
      store.close(),
    ]);
    await probes.close();
    await tracing.shutdown();
    logger.info('worker stopped');
    return code;
  },
};

/**
 * The live reconciler (reconciler-host.ts) when the klines topic is there with the trades topic's
 * partition count; else none, with one warning (a deployment without kline ingest runs as before).
 */
async function createVerification(
  options: WorkerOptions,
  partitions: number,
  deps: {
    admin: KafkaLogAdmin;
    kafka: Omit<Parameters<typeof createKafkaConsumer>[0], 'topic'>;
    store: Store;
    bus: Bus;
    logger: Logger;
    registry: Registry;
  },
): Promise<{ host: ReconcilerHost; consumer: LogConsumer } | undefined> {
  const topic = options.klinesTopic;
  const count = await deps.admin.partitionCount(topic).catch(() => undefined);
  if (count !== partitions) {
    deps.logger.warn(
      { topic, partitions: count ?? null, expected: partitions },
      'klines topic unusable; candles are not verified',
    );
    return undefined;
  }
  const consumer = await createKafkaConsumer({ ...deps.kafka, clientId: `${deps.kafka.clientId}-klines`, topic });
  const host = createReconcilerHost({
    consumer,
    store: deps.store,
    bus: deps.bus,
    logger: deps.logger,
    metrics: createVerificationMetrics(deps.registry),
    clock: Date.now,
    config: reconcilerHostConfig(options, partitions),
  });
  return { host, consumer };
}
