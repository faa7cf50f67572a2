import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import type pg from 'pg';
import { expect } from 'vitest';
import { endpoint } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { kubeConfig } from '../integration/operator-support.js';

/** Pieces of the cluster layer (test/cluster/): the chart on the real node of test/infra/node.sh. */

const run = promisify(execFile);

export const CHART = fileURLToPath(new URL('../../deploy/helm/tickmesh', import.meta.url));

/** The taint and label of the real node: only pods that tolerate it, and select it, land there. */
export function onTheNode() {
  const key = endpoint('TICKMESH_NODE_TAINT');
  return {
    nodeSelector: { [key]: 'true' },
    tolerations: [{ key, operator: 'Exists', effect: 'NoSchedule' }],
  };
}

/** A loopback URL of a harness server as pods see it: at the node's address (node.sh forwards it). */
export function podSide(url: string): string {
  return url.replace('127.0.0.1', endpoint('TICKMESH_NODE_IP'));
}

let helmHome: string | undefined;

async function tool(bin: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await run(bin, [...args], { env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (cause) {
    const err = cause as Error & { stderr?: string; stdout?: string };
    throw new Error(
      `${bin.split('/').pop()} ${args.join(' ')} failed: ${err.message}\n${err.stderr ?? ''}${err.stdout ?? ''}`,
    );
  }
}

/** The harness's helm, with its cache, config and data kept out of $HOME. */
export async function helm(...args: string[]): Promise<string> {
  helmHome ??= await mkdtemp(join(tmpdir(), 'tickmesh-helm-'));
  return tool(endpoint('HELM'), [...args, '--kubeconfig', endpoint('KUBECONFIG')], {
    ...process.env,
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  });
}

export function kubectl(...args: string[]): Promise<string> {
  return tool(endpoint('KUBECTL'), ['--kubeconfig', endpoint('KUBECONFIG'), ...args]);
}

/** `ctr` on the node's containerd, in the namespace of its Kubernetes containers. */
export function ctr(...args: string[]): Promise<string> {
  return tool(endpoint('TICKMESH_NODE_CTR'), [
    '--address',
    endpoint('TICKMESH_NODE_CONTAINERD'),
    '-n',
    'k8s.io',
    ...args,
  ]);
}

export function isReady(pod: V1Pod): boolean {
  return (
    pod.metadata?.deletionTimestamp === undefined &&
    pod.status?.phase === 'Running' &&
    (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

export function podsApi(): CoreV1Api {
  return kubeConfig().makeApiClient(CoreV1Api);
}

/** Waits until exactly the pods matched by `selector` number `count` (when given) and are all Ready. */
export async function allReady(
  core: CoreV1Api,
  namespace: string,
  selector: string,
  count?: number,
  ms = 240_000,
): Promise<V1Pod[]> {
  return eventually(
    `${count ?? 'all'} pods (${selector}) Ready in ${namespace}`,
    async () => {
      const { items } = await core.listNamespacedPod({ namespace, labelSelector: selector });
      const live = items.filter((p) => p.metadata?.deletionTimestamp === undefined);
      const ready = live.filter(isReady);
      const summary = live.map((p) => `${p.metadata?.name}=${p.status?.phase}${isReady(p) ? '/ready' : ''}`).join(' ');
      if ((count !== undefined && live.length !== count) || live.length === 0 || ready.length !== live.length) {
        throw new Error(`pods: ${summary || 'none'}`);
      }
      return ready;
    },
    ms,
    250,
  );
}

/**
 * Waits until the topics Job's pod of `namespace` has Succeeded. Its topics exist before its
 * process has exited, so ingest can be Ready while the pod is still Running for a moment.
 */
export async function topicsJobSucceeded(core: CoreV1Api, namespace: string, ms = 60_000): Promise<void> {
  await eventually(
    `the topics Job's pod Succeeded in ${namespace}`,
    async () => {
      const { items } = await core.listNamespacedPod({ namespace, labelSelector: SELECT('topics') });
      const phases = items.map((p) => p.status?.phase);
      if (!phases.includes('Succeeded')) throw new Error(`topics pods: ${phases.join(' ') || 'none'}`);
      return phases;
    },
    ms,
    250,
  );
}

/** A pino line of a pod's log. */
export interface PodLogLine {
  readonly msg: string;
  readonly time: number;
  readonly [field: string]: unknown;
}

/** The JSON log lines of a pod's container (its current run, or the one before with `previous`). */
export async function podLog(namespace: string, pod: string, previous = false): Promise<PodLogLine[]> {
  const text = await kubectl('logs', '-n', namespace, pod, ...(previous ? ['--previous'] : [])).catch(() => '');
  const lines: PodLogLine[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      const line = JSON.parse(raw) as PodLogLine;
      if (typeof line.msg === 'string') lines.push(line);
    } catch {
      // A line cut by the log rotation, or not pino's.
    }
  }
  return lines;
}

/** The working-set memory of each pod of `namespace` on the node, in MiB, from the kubelet's summary. */
export async function podMemoryMiB(namespace: string): Promise<Record<string, number>> {
  const raw = await kubectl('get', '--raw', `/api/v1/nodes/${endpoint('TICKMESH_NODE_NAME')}/proxy/stats/summary`);
  const summary = JSON.parse(raw) as {
    pods: { podRef: { name: string; namespace: string }; memory?: { workingSetBytes?: number } }[];
  };
  const out: Record<string, number> = {};
  for (const p of summary.pods) {
    if (p.podRef.namespace !== namespace) continue;
    out[p.podRef.name] = Math.round((p.memory?.workingSetBytes ?? 0) / 1024 / 1024);
  }
  return out;
}

export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** Every cluster test installs one release of this name, each in a namespace of its own. */
export const RELEASE = 'tm';
export const FULLNAME = `${RELEASE}-tickmesh`;
export const SELECT = (component: string) =>
  `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=${component}`;

/** The trades topic's partitions in every release of the cluster tests. */
export const P = 8;
export const INTERVALS = '1m,5m,15m,1h';

function image(): { repository: string; tag: string } {
  const name = endpoint('TICKMESH_IMAGE');
  const at = name.lastIndexOf(':');
  return { repository: name.slice(0, at), tag: name.slice(at + 1) };
}

/** The release's values: the project's image, the harness servers as seen from pods, small requests. */
export function releaseValues(options: {
  topic: string;
  schema: string;
  bucket: string;
  ingest: boolean;
  api: boolean;
  createTopics: boolean;
}) {
  const node = onTheNode();
  const small = (cpu: string, memory: string) => ({ requests: { cpu, memory }, limits: { memory: '1Gi' } });
  return {
    image: { ...image(), pullPolicy: 'Never' },
    kafka: {
      brokers: endpoint('KAFKA_BROKERS_POD'),
      partitions: P,
      topics: {
        trades: options.topic,
        late: `${options.topic}.late`,
        rejected: `${options.topic}.rejected`,
        gaps: `${options.topic}.gaps`,
      },
      // The chart's Job runs `tickmesh topics` from the project's image; where it is off, the test
      // makes the topics.
      createTopics: { enabled: options.createTopics, replicationFactor: 1, waitSeconds: 120, ...node },
    },
    nats: { url: podSide(endpoint('NATS_URL')) },
    redis: { url: podSide(endpoint('REDIS_URL')) },
    postgres: { url: podSide(endpoint('DATABASE_URL')), schema: options.schema },
    worker: {
      replicas: 2,
      ...node,
      resources: small('50m', '128Mi'),
      drainTimeoutMs: 10_000,
      handoffWaitMs: 3_000,
      flags: {
        intervals: INTERVALS,
        // Candles from the log alone, so that the cluster's table compares with a reference run.
        'clock-watermark': 'false',
        'checkpoint-interval-ms': '200',
        'max-pending-rows': '2000',
        'index-actors': 'false',
        'placement-bucket': options.bucket,
      },
    },
    operator: {
      ...node,
      resources: small('20m', '64Mi'),
      leaseDurationSeconds: 4,
      renewDeadlineMs: 3_000,
      retryPeriodMs: 500,
      flags: { 'placement-bucket': options.bucket, 'load-interval': '0' },
    },
    api: { enabled: options.api, replicas: 1, ...node, resources: small('20m', '64Mi') },
    ingest: {
      enabled: options.ingest,
      ...node,
      resources: small('20m', '64Mi'),
      venues: [{ venue: 'sim', symbols: ['BTC-USDT', 'ETH-USDT', 'SOL-USDT'] }],
      flags: { 'sim-rate': '20' },
    },
    probes: {
      readiness: { initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 3 },
      startup: { periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 300 },
    },
  };
}

export async function writeValues(name: string, v: unknown): Promise<string> {
  const dir = join('test-results', 'cluster');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.values.json`);
  writeFileSync(file, JSON.stringify(v, null, 2));
  return file;
}

const NOT_AVAILABLE = 'server not available at start; not ready, retrying';
/** The first lines of a Node stack trace, as an uncaught error or pino's `err.stack` print them. */
const STACK = /^\s+at \S|\\n\s+at \S|"stack"/m;

/** The one live pod of `component` in `namespace`. */
export async function onePod(core: CoreV1Api, namespace: string, component: string): Promise<V1Pod> {
  const { items } = await core.listNamespacedPod({ namespace, labelSelector: SELECT(component) });
  const live = items.filter((p) => p.metadata?.deletionTimestamp === undefined);
  if (live.length !== 1) throw new Error(`${live.length} ${component} pods`);
  return live[0]!;
}

/**
 * Waits until the `component` pod's container runs, not Ready, and its log holds the line that
 * `server` is not available with `detail`; then, after retries (`retriesWithinMs`), checks that it is still
 * the only such line, that no stack trace was printed, and that the container never restarted.
 */
export async function notReadyWithOneLine(
  core: CoreV1Api,
  namespace: string,
  component: string,
  server: string,
  detail: RegExp,
  retriesWithinMs = 8_000,
) {
  const pod = await eventually(
    `${component} running, not Ready, with the line about ${server}`,
    async () => {
      const p = await onePod(core, namespace, component);
      if (!p.status?.containerStatuses?.[0]?.state?.running) return undefined;
      const text = await kubectl('logs', '-n', namespace, p.metadata!.name!);
      return text.includes(NOT_AVAILABLE) ? p : undefined;
    },
    120_000,
    500,
  );
  const name = pod.metadata!.name!;
  // Retries after up to 0.5, 1, 2, 4, 5 s (jittered); 15 s apart after a refusal.
  await new Promise((r) => setTimeout(r, retriesWithinMs));
  const now = await core.readNamespacedPod({ name, namespace });
  expect(isReady(now), `${name} Ready`).toBe(false);
  expect(now.status?.containerStatuses?.[0]?.restartCount, `${name} restarts`).toBe(0);
  const text = await kubectl('logs', '-n', namespace, name);
  const lines = text.split('\n').filter((l) => l.includes(NOT_AVAILABLE));
  expect(lines, text).toHaveLength(1);
  const line = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(line.server).toBe(server);
  expect(String(line.detail)).toMatch(detail);
  expect(line.error).toMatch(/Error$/);
  expect(text).not.toMatch(STACK);
  expect(text).not.toMatch(/"level":(50|60)/);
  const readyz = now.status?.conditions?.find((c) => c.type === 'Ready');
  expect(readyz?.status).toBe('False');
}

/**
 * Waits until the workers have written closed 1m candles into `schema` (an error while the schema
 * or its table does not exist yet counts as none), up to 150 s; the symbols that have them.
 */
export async function firstCandleSymbols(db: pg.Client, schema: string, what: string): Promise<string[]> {
  const rows = await eventually(
    what,
    async () => {
      const { rows } = await db
        .query<{ symbol: string }>(`SELECT DISTINCT symbol FROM "${schema}".candles WHERE interval = '1m'`)
        .catch(() => ({ rows: [] as { symbol: string }[] }));
      return rows.length >= 1 ? rows : undefined;
    },
    150_000,
    1_000,
  );
  return rows.map((r) => r.symbol);
}
