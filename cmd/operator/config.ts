import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { type NatsSecurity, natsSecurityFromEnv } from '../../internal/config/connection-security.js';
import { ConfigError } from '../../internal/runtime/errors.js';

export const OPERATOR_HELP = `tickmesh operator: places Kafka partitions on Ready worker pods, holds a Lease (one acting replica)

usage: tickmesh operator [options]

options (flags override the environment):
  --kubeconfig PATH         kubeconfig file; default: in-cluster config, else ~/.kube/config   (KUBECONFIG)
  --namespace NS            namespace of the workers, the Lease and the placement ConfigMap
                            default: the pod's namespace, else "default"                        (POD_NAMESPACE)
  --selector SELECTOR       label selector of the worker pods
                            default: app.kubernetes.io/name=tickmesh,app.kubernetes.io/component=worker
                                                                                                (TICKMESH_WORKER_SELECTOR)
  --partitions N            partitions of the trades topic (required)                            (TICKMESH_PARTITIONS)
  --identity NAME           this replica's Lease identity; default: the pod name, else host-pid  (POD_NAME)
  --lease NAME              Lease name; default tickmesh-operator                                (TICKMESH_OPERATOR_LEASE)
  --lease-duration S        lease duration in seconds; default 15
  --renew-deadline MS       leader gives up when it could not renew for this long; default 10000
  --retry-period MS         renew / acquire attempt period; default 2000
  --max-moves N             moves between live workers per round (orphans are never held back); default 4
  --round-interval MS       pause between rate-limited rounds; default 1000
  --tolerance F             allowed member load over the mean, as a fraction; default 0.2
  --debounce MS             coalesce membership changes arriving within this window; default 100
  --load-interval MS        with NATS: weigh partitions by the input rate the workers measure and
                            re-check the balance this often; 0: count-only placement; default 10000
  --load-min-rate N         below this total rate (trades/s) partitions weigh the same; default 100
  --load-min-gain F         a load exchange must lower the heavier member's load by more than this
                            fraction of the mean member load; default 0.1
  --load-cooldown MS        a partition moved less than this long ago is not moved for load; default 60000
  --autoscale-max N         with NATS: scale the worker Deployment between --autoscale-min and this
                            from sustained lag and backpressure; 0: off; default 0
  --autoscale-min N         default 1
  --autoscale-deployment NAME  the worker Deployment (required with --autoscale-max)
                                                                                                (TICKMESH_AUTOSCALE_DEPLOYMENT)
  --autoscale-lag N         total lag in records that counts as behind; default 10000
  --autoscale-target-rate N trades/s one worker should carry; sizes by input rate too; default none
  --autoscale-up-after MS   pressure held this long adds a replica; default 30000
  --autoscale-down-after MS calm held this long removes one; default 300000
  --autoscale-cooldown MS   nothing after a change for this long; default 60000
  --autoscale-every MS      sampling period; default 5000
  --nats URL                NATS for the placement KV the workers watch; without it the placement
                            goes to the ConfigMap only                                           (NATS_URL)
  --placement-bucket NAME   KV bucket of the placement; default tickmesh-placement               (TICKMESH_PLACEMENT_BUCKET)
  --liveness-timeout MS     with NATS: a Ready worker whose heartbeat stopped this long is not a
                            member; 0 disables (Kubernetes readiness alone); default 1500
  --metrics-port PORT       /metrics /healthz /readyz; 0 picks a free port; default 9464        (TICKMESH_METRICS_PORT)
  --log-level LEVEL         default info                                                         (LOG_LEVEL)
`;

const schema = z.object({
  kubeconfig: z.string().min(1).optional(),
  namespace: z.string().min(1),
  selector: z.string().min(1),
  partitions: z.coerce.number().int().positive(),
  identity: z.string().min(1),
  lease: z.string().min(1),
  leaseDurationSeconds: z.coerce.number().int().min(1),
  renewDeadlineMs: z.coerce.number().int().positive(),
  retryPeriodMs: z.coerce.number().int().positive(),
  maxMovesPerRound: z.coerce.number().int().min(1),
  roundIntervalMs: z.coerce.number().int().min(0),
  tolerance: z.coerce.number().min(0),
  debounceMs: z.coerce.number().int().min(0),
  loadIntervalMs: z.coerce.number().int().min(0),
  loadMinRate: z.coerce.number().min(0),
  loadMinGain: z.coerce.number().min(0),
  loadCooldownMs: z.coerce.number().int().min(0),
  natsUrl: z.string().min(1).optional(),
  autoscaleMax: z.coerce.number().int().min(0),
  autoscaleMin: z.coerce.number().int().min(1),
  autoscaleDeployment: z.string().min(1).optional(),
  autoscaleLag: z.coerce.number().int().positive(),
  autoscaleTargetRate: z.coerce.number().positive().optional(),
  autoscaleUpAfterMs: z.coerce.number().int().min(0),
  autoscaleDownAfterMs: z.coerce.number().int().min(0),
  autoscaleCooldownMs: z.coerce.number().int().min(0),
  autoscaleEveryMs: z.coerce.number().int().positive(),
  placementBucket: z.string().regex(/^[A-Za-z0-9_-]+$/),
  livenessTimeoutMs: z.coerce.number().int().min(0),
  metricsPort: z.coerce.number().int().min(0).max(65535),
  logLevel: z.string().min(1),
});

export type OperatorConfig = Readonly<z.infer<typeof schema>> & {
  /** TLS and credentials for --nats, from NATS_TLS, NATS_CREDS_FILE, ... (docs/SECURITY.md). */
  readonly natsSecurity?: NatsSecurity | undefined;
};

/** Parses flags over the environment against one schema; the result is frozen. */
export function parseOperatorConfig(argv: readonly string[], env: NodeJS.ProcessEnv): OperatorConfig {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        [
          'kubeconfig',
          'namespace',
          'selector',
          'partitions',
          'identity',
          'lease',
          'lease-duration',
          'renew-deadline',
          'retry-period',
          'max-moves',
          'round-interval',
          'tolerance',
          'debounce',
          'load-interval',
          'load-min-rate',
          'load-min-gain',
          'load-cooldown',
          'nats',
          'autoscale-max',
          'autoscale-min',
          'autoscale-deployment',
          'autoscale-lag',
          'autoscale-target-rate',
          'autoscale-up-after',
          'autoscale-down-after',
          'autoscale-cooldown',
          'autoscale-every',
          'placement-bucket',
          'liveness-timeout',
          'metrics-port',
          'log-level',
        ].map((name) => [name, { type: 'string' as const }]),
      ),
    }).values as Record<string, string | undefined>;
  } catch (cause) {
    throw new ConfigError((cause as Error).message, { cause });
  }
  if (!(values.partitions ?? env.TICKMESH_PARTITIONS)) {
    throw new ConfigError('--partitions (or TICKMESH_PARTITIONS) is required: the partition count of the trades topic');
  }
  const parsed = schema.safeParse({
    kubeconfig: values.kubeconfig ?? (env.KUBECONFIG || undefined),
    namespace: values.namespace ?? (env.POD_NAMESPACE || 'default'),
    selector:
      values.selector ??
      (env.TICKMESH_WORKER_SELECTOR || 'app.kubernetes.io/name=tickmesh,app.kubernetes.io/component=worker'),
    partitions: values.partitions ?? env.TICKMESH_PARTITIONS,
    identity: values.identity ?? (env.POD_NAME || `${hostname()}-${process.pid}`),
    lease: values.lease ?? (env.TICKMESH_OPERATOR_LEASE || 'tickmesh-operator'),
    leaseDurationSeconds: values['lease-duration'] ?? 15,
    renewDeadlineMs: values['renew-deadline'] ?? 10_000,
    retryPeriodMs: values['retry-period'] ?? 2_000,
    maxMovesPerRound: values['max-moves'] ?? 4,
    roundIntervalMs: values['round-interval'] ?? 1_000,
    tolerance: values.tolerance ?? 0.2,
    debounceMs: values.debounce ?? 100,
    loadIntervalMs: values['load-interval'] ?? 10_000,
    loadMinRate: values['load-min-rate'] ?? 100,
    loadMinGain: values['load-min-gain'] ?? 0.1,
    loadCooldownMs: values['load-cooldown'] ?? 60_000,
    natsUrl: values.nats ?? (env.NATS_URL || undefined),
    autoscaleMax: values['autoscale-max'] ?? 0,
    autoscaleMin: values['autoscale-min'] ?? 1,
    autoscaleDeployment: values['autoscale-deployment'] ?? (env.TICKMESH_AUTOSCALE_DEPLOYMENT || undefined),
    autoscaleLag: values['autoscale-lag'] ?? 10_000,
    autoscaleTargetRate: values['autoscale-target-rate'],
    autoscaleUpAfterMs: values['autoscale-up-after'] ?? 30_000,
    autoscaleDownAfterMs: values['autoscale-down-after'] ?? 300_000,
    autoscaleCooldownMs: values['autoscale-cooldown'] ?? 60_000,
    autoscaleEveryMs: values['autoscale-every'] ?? 5_000,
    placementBucket: values['placement-bucket'] ?? (env.TICKMESH_PLACEMENT_BUCKET || 'tickmesh-placement'),
    livenessTimeoutMs: values['liveness-timeout'] ?? 1_500,
    metricsPort: values['metrics-port'] ?? env.TICKMESH_METRICS_PORT ?? 9464,
    logLevel: values['log-level'] ?? (env.LOG_LEVEL || 'info'),
  });
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n${z.prettifyError(parsed.error)}`);
  const c = parsed.data;
  if (c.autoscaleMax > 0) {
    if (!c.autoscaleDeployment)
      throw new ConfigError('--autoscale-max needs --autoscale-deployment (the worker Deployment)');
    if (!c.natsUrl)
      throw new ConfigError("--autoscale-max needs --nats: the workers' heartbeats carry the lag it scales on");
    if (c.autoscaleMin > c.autoscaleMax) throw new ConfigError('--autoscale-min must not exceed --autoscale-max');
  }
  return Object.freeze({ ...c, natsSecurity: natsSecurityFromEnv(env, c.natsUrl) });
}
