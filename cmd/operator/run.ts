import { AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Bus } from '../../internal/bus/bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import type { OperatorConfig } from '../../internal/config/operator.js';
import { startProbeServer } from '../../internal/observe/http-server.js';
import { createLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { createAutoscaler } from '../../internal/operator/autoscale.js';
import { runAutoscaleLoop } from '../../internal/operator/autoscale-loop.js';
import { createDeploymentScale } from '../../internal/operator/deployment-scale.js';
import { createKvPlacementMirror } from '../../internal/operator/kv-placement.js';
import { createLeaderElector } from '../../internal/operator/lease.js';
import {
  createHeartbeatLiveness,
  createHeartbeatMonitor,
  type HeartbeatMonitor,
} from '../../internal/operator/liveness.js';
import { LoadBoard, placementLoad } from '../../internal/operator/load-board.js';
import { createMembership } from '../../internal/operator/membership.js';
import { createOperatorMetrics } from '../../internal/operator/metrics.js';
import { createConfigMapStore, createEventRecorder } from '../../internal/operator/publication.js';
import { createReconciler } from '../../internal/operator/reconciler.js';
import { createStartupGate } from '../../internal/runtime/startup-gate.js';

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

export interface OperatorRuntime {
  /**
   * The Bus whose KV the workers watch (the embedded mode passes its in-process bus). Without one,
   * a NATS bus is connected when `natsUrl` is set; otherwise the placement goes to the ConfigMap only.
   */
  readonly bus?: Bus;
}

/**
 * Runs one operator replica until `signal` aborts: contends for the Lease; while leading, watches
 * the worker pods and reconciles the placement. On abort it stops the leader's work, then releases
 * the Lease so that the standby takes over at its next retry.
 */
export async function runOperator(
  config: OperatorConfig,
  signal: AbortSignal,
  runtime: OperatorRuntime = {},
): Promise<number> {
  const logger = createLogger({ level: config.logLevel }).child({ role: 'operator', identity: config.identity });
  const kc = loadKubeConfig(config.kubeconfig);
  const registry = createRegistry({ role: 'operator' });
  const metrics = createOperatorMetrics(registry);
  const core = kc.makeApiClient(CoreV1Api);
  const store = createConfigMapStore({ api: core, namespace: config.namespace });
  const recorder = createEventRecorder({
    api: core,
    namespace: config.namespace,
    component: 'tickmesh-operator',
    instance: config.identity,
  });
  // The probes first: a NATS that does not answer or refuses us shows as not Ready, with the
  // reason on /readyz and in one log line, while this process retries (StartupGate).
  const gate = createStartupGate({ logger, signal });
  const probes = await startProbeServer(
    { registry, healthy: () => true, notReadyReason: () => gate.reason() },
    config.metricsPort,
  );
  const natsUrl = config.natsUrl;
  const ownBus =
    !runtime.bus && natsUrl
      ? await gate.until('nats', () =>
          createNatsBus({
            servers: natsUrl,
            security: config.natsSecurity,
            name: `tickmesh-operator-${config.identity}`,
            logger,
          }),
        )
      : undefined;
  if (!runtime.bus && natsUrl && !ownBus) {
    await probes.close();
    return 0;
  }
  gate.open();
  const bus = runtime.bus ?? ownBus;
  if (!bus) logger.warn("no bus: the placement is published to the ConfigMap only, not to the workers' KV");
  // Heartbeats are heard from the start, standby included, so that a new leader knows who is alive
  // and what each partition's load is.
  const heartbeats = new AbortController();
  const board =
    bus && (config.livenessTimeoutMs > 0 || config.loadIntervalMs > 0 || config.autoscaleMax > 0)
      ? new LoadBoard()
      : undefined;
  let monitor: HeartbeatMonitor | undefined;
  let gauges: NodeJS.Timeout | undefined;
  if (bus && board) {
    monitor = createHeartbeatMonitor({ bus, logger, onBeat: (beat, at) => board.record(beat, at) });
    monitor.start(heartbeats.signal);
    gauges = setInterval(() => {
      const reports = board.reports(Date.now());
      metrics.partitionRate.reset();
      metrics.partitionLag.reset();
      for (const r of reports) {
        if (r.rate !== undefined) metrics.partitionRate.set({ partition: String(r.partition) }, r.rate);
        if (r.lag !== undefined) metrics.partitionLag.set({ partition: String(r.partition) }, r.lag);
      }
      metrics.pausedPartitions.set(reports.filter((r) => r.paused).length);
    }, 1_000);
    gauges.unref();
  }
  const weighLoad = board && config.loadIntervalMs > 0 ? board : undefined;
  const autoscale =
    config.autoscaleMax > 0 && config.autoscaleDeployment && board
      ? createDeploymentScale({
          apps: kc.makeApiClient(AppsV1Api),
          core,
          namespace: config.namespace,
          name: config.autoscaleDeployment,
          component: 'tickmesh-operator',
          instance: config.identity,
        })
      : undefined;

  const elector = createLeaderElector({
    api: kc.makeApiClient(CoordinationV1Api),
    logger,
    options: {
      namespace: config.namespace,
      name: config.lease,
      identity: config.identity,
      leaseDurationSeconds: config.leaseDurationSeconds,
      renewDeadlineMs: config.renewDeadlineMs,
      retryPeriodMs: config.retryPeriodMs,
    },
    onStartedLeading: async (leading) => {
      metrics.leader.set(1);
      const reconciler = createReconciler({
        store,
        mirrors: bus ? [createKvPlacementMirror({ bus, bucket: config.placementBucket })] : [],
        events: { on: () => store.reference(), recorder },
        members: () => membership.members(),
        partitionCount: config.partitions,
        load: weighLoad && (() => placementLoad(weighLoad.rates(Date.now()), config.loadMinRate)),
        options: {
          tolerance: config.tolerance,
          maxMovesPerRound: config.maxMovesPerRound,
          minGain: config.loadMinGain,
        },
        loadMoveCooldownMs: config.loadCooldownMs,
        identity: config.identity,
        logger,
        metrics,
        debounceMs: config.debounceMs,
        roundIntervalMs: config.roundIntervalMs,
      });
      const liveness =
        monitor && config.livenessTimeoutMs > 0
          ? createHeartbeatLiveness(monitor, { timeoutMs: config.livenessTimeoutMs, logger })
          : undefined;
      // Loads change without an event: the balance under the latest rates is checked on a timer
      // (place() moves nothing while the heaviest member is within the tolerance).
      const loadCheck = weighLoad ? setInterval(() => reconciler.notify('load'), config.loadIntervalMs) : undefined;
      const membership = createMembership({
        kubeConfig: kc,
        namespace: config.namespace,
        labelSelector: config.selector,
        logger,
        onChange: () => reconciler.notify('membership'),
        liveness,
      });
      // Its own signal: the elector aborts `leading` only after this function returns, so the
      // finally below must be able to stop the loop when the reconciler ends first.
      const stopAutoscaling = new AbortController();
      leading.addEventListener('abort', () => stopAutoscaling.abort(), { once: true });
      const autoscaling =
        autoscale && board
          ? runAutoscaleLoop(
              {
                scale: autoscale,
                // A new leader starts its clocks afresh: pressure must be sustained under its watch.
                autoscaler: createAutoscaler({
                  min: config.autoscaleMin,
                  max: config.autoscaleMax,
                  lagHigh: config.autoscaleLag,
                  upAfterMs: config.autoscaleUpAfterMs,
                  downAfterMs: config.autoscaleDownAfterMs,
                  cooldownMs: config.autoscaleCooldownMs,
                  partitionCount: config.partitions,
                  ...(config.autoscaleTargetRate === undefined
                    ? {}
                    : { targetRatePerWorker: config.autoscaleTargetRate }),
                }),
                reports: (now) => board.reports(now),
                logger,
                metrics,
                everyMs: config.autoscaleEveryMs,
              },
              stopAutoscaling.signal,
            )
          : undefined;
      try {
        await membership.start(leading);
        await reconciler.run(leading);
      } finally {
        stopAutoscaling.abort();
        await autoscaling;
        clearInterval(loadCheck);
        await membership.close();
        liveness?.close();
      }
    },
    onStoppedLeading: () => metrics.leader.set(0),
  });

  logger.info(
    { metricsPort: probes.port, namespace: config.namespace, partitions: config.partitions },
    'operator started',
  );
  try {
    await elector.run(signal);
  } finally {
    heartbeats.abort();
    clearInterval(gauges);
    await probes.close();
    await ownBus?.close();
  }
  logger.info('operator stopped');
  return 0;
}
