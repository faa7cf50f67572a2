import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError } from '../runtime/errors.js';
import { type NatsSecurity, natsSecurityFromEnv } from './connection-security.js';
import { intFlag, PROCESS_FLAGS, textFlag } from './flags.js';
import { type FlagSpec, type FlagValues, flagHelp, parseFlags } from './parse-flags.js';

/** The `tickmesh operator` flags: one schema, parsed once in cmd/, frozen. */

const int = intFlag;
const num = z.coerce.number().min(0);

export const OPERATOR_FLAGS = {
  kubeconfig: {
    schema: textFlag,
    arg: 'PATH',
    env: 'KUBECONFIG',
    help: 'kubeconfig file',
    defaultHelp: 'in-cluster config, else ~/.kube/config',
  },
  namespace: {
    schema: z.string().min(1).default('default'),
    arg: 'NS',
    env: 'POD_NAMESPACE',
    help: 'namespace of the workers, the Lease and the placement ConfigMap',
    defaultHelp: 'the pod\'s namespace, else "default"',
  },
  selector: {
    schema: z.string().min(1).default('app.kubernetes.io/name=tickmesh,app.kubernetes.io/component=worker'),
    arg: 'SELECTOR',
    env: 'TICKMESH_WORKER_SELECTOR',
    help: 'label selector of the worker pods',
  },
  partitions: {
    schema: int(1),
    arg: 'N',
    env: 'TICKMESH_PARTITIONS',
    help: 'partitions of the trades topic (required)',
  },
  identity: {
    schema: textFlag,
    arg: 'NAME',
    env: 'POD_NAME',
    help: "this replica's Lease identity",
    defaultHelp: 'the pod name, else host-pid',
  },
  lease: {
    schema: z.string().min(1).default('tickmesh-operator'),
    arg: 'NAME',
    env: 'TICKMESH_OPERATOR_LEASE',
    help: 'Lease name',
  },
  leaseDurationSeconds: {
    flag: 'lease-duration',
    schema: int(1).default(15),
    arg: 'S',
    help: 'lease duration in seconds',
  },
  renewDeadlineMs: {
    flag: 'renew-deadline',
    schema: int(1).default(10_000),
    arg: 'MS',
    help: 'leader gives up when it could not renew for this long',
  },
  retryPeriodMs: {
    flag: 'retry-period',
    schema: int(1).default(2_000),
    arg: 'MS',
    help: 'renew / acquire attempt period',
  },
  maxMovesPerRound: {
    flag: 'max-moves',
    schema: int(1).default(4),
    arg: 'N',
    help: 'moves between live workers per round (orphans are never held back)',
  },
  roundIntervalMs: {
    flag: 'round-interval',
    schema: int(0).default(1_000),
    arg: 'MS',
    help: 'pause between rate-limited rounds',
  },
  tolerance: { schema: num.default(0.2), arg: 'F', help: 'allowed member load over the mean, as a fraction' },
  debounceMs: {
    flag: 'debounce',
    schema: int(0).default(100),
    arg: 'MS',
    help: 'coalesce membership changes arriving within this window',
  },
  loadIntervalMs: {
    flag: 'load-interval',
    schema: int(0).default(10_000),
    arg: 'MS',
    help:
      'with NATS: weigh partitions by the input rate the workers measure and re-check the balance this ' +
      'often; 0: count-only placement',
  },
  loadMinRate: {
    schema: num.default(100),
    arg: 'N',
    help: 'below this total rate (trades/s) partitions weigh the same',
  },
  loadMinGain: {
    schema: num.default(0.1),
    arg: 'F',
    help: "a load exchange must lower the heavier member's load by more than this fraction of the mean member load",
  },
  loadCooldownMs: {
    flag: 'load-cooldown',
    schema: int(0).default(60_000),
    arg: 'MS',
    help: 'a partition moved less than this long ago is not moved for load',
  },
  autoscaleMax: {
    schema: int(0).default(0),
    arg: 'N',
    help:
      'with NATS: scale the worker Deployment between --autoscale-min and this from sustained lag and ' +
      'backpressure; 0: off',
  },
  autoscaleMin: { schema: int(1).default(1), arg: 'N', help: 'fewest worker replicas when autoscaling' },
  autoscaleDeployment: {
    schema: textFlag,
    arg: 'NAME',
    env: 'TICKMESH_AUTOSCALE_DEPLOYMENT',
    help: 'the worker Deployment (required with --autoscale-max)',
  },
  autoscaleLag: { schema: int(1).default(10_000), arg: 'N', help: 'total lag in records that counts as behind' },
  autoscaleTargetRate: {
    schema: z.coerce.number().positive().optional(),
    arg: 'N',
    help: 'trades/s one worker should carry; sizes by input rate too',
    defaultHelp: 'none',
  },
  autoscaleUpAfterMs: {
    flag: 'autoscale-up-after',
    schema: int(0).default(30_000),
    arg: 'MS',
    help: 'pressure held this long adds a replica',
  },
  autoscaleDownAfterMs: {
    flag: 'autoscale-down-after',
    schema: int(0).default(300_000),
    arg: 'MS',
    help: 'calm held this long removes one',
  },
  autoscaleCooldownMs: {
    flag: 'autoscale-cooldown',
    schema: int(0).default(60_000),
    arg: 'MS',
    help: 'nothing after a change for this long',
  },
  autoscaleEveryMs: { flag: 'autoscale-every', schema: int(1).default(5_000), arg: 'MS', help: 'sampling period' },
  natsUrl: {
    flag: 'nats',
    schema: textFlag,
    arg: 'URL',
    env: 'NATS_URL',
    help: 'NATS for the placement KV the workers watch; without it the placement goes to the ConfigMap only',
  },
  placementBucket: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('tickmesh-placement'),
    arg: 'NAME',
    env: 'TICKMESH_PLACEMENT_BUCKET',
    help: 'KV bucket of the placement',
  },
  livenessTimeoutMs: {
    flag: 'liveness-timeout',
    schema: int(0).default(1_500),
    arg: 'MS',
    help:
      'with NATS: a Ready worker whose heartbeat stopped this long is not a member; 0 disables ' +
      '(Kubernetes readiness alone)',
  },
  ...PROCESS_FLAGS,
} as const satisfies FlagSpec;

export const OPERATOR_HELP = `tickmesh operator: places Kafka partitions on Ready worker pods, holds a Lease (one acting replica)

usage: tickmesh operator [options]

options (flags override the environment):
${flagHelp(OPERATOR_FLAGS)}
`;

export type OperatorConfig = Omit<FlagValues<typeof OPERATOR_FLAGS>, 'identity'> & {
  readonly identity: string;
  /** TLS and credentials for --nats, from NATS_TLS, NATS_CREDS_FILE, ... (docs/SECURITY.md). */
  readonly natsSecurity?: NatsSecurity | undefined;
};

/** Parses flags over the environment against one schema; the result is frozen. */
export function parseOperatorConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): OperatorConfig {
  const c = parseFlags(OPERATOR_FLAGS, argv, env);
  if (c.autoscaleMax > 0) {
    if (!c.autoscaleDeployment)
      throw new ConfigError('--autoscale-max needs --autoscale-deployment (the worker Deployment)');
    if (!c.natsUrl)
      throw new ConfigError("--autoscale-max needs --nats: the workers' heartbeats carry the lag it scales on");
    if (c.autoscaleMin > c.autoscaleMax) throw new ConfigError('--autoscale-min must not exceed --autoscale-max');
  }
  return Object.freeze({
    ...c,
    identity: c.identity ?? `${hostname()}-${process.pid}`,
    natsSecurity: natsSecurityFromEnv(env, c.natsUrl),
  });
}
