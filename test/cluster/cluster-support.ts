import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
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
