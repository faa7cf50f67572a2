import { connect, createServer, type Server, type Socket } from 'node:net';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { runOperator } from '../../cmd/operator/run.js';
import type { Bus } from '../../internal/bus/bus.js';
import { parseOperatorConfig } from '../../internal/config/operator.js';
import { encodeHeartbeat, heartbeatSubject, type PartitionBeat } from '../../internal/operator/heartbeat-message.js';
import { endpoint, freshName } from '../harness/env.js';

/** Shared pieces of the operator's integration tests (real kube-apiserver from test/infra/kube.sh). */

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(endpoint('KUBECONFIG'));
  return kc;
}

/** A fresh namespace; delete() removes it (and everything in it) when the test is done. */
export async function freshNamespace(
  kc: KubeConfig,
  prefix = 'op',
): Promise<{ name: string; delete(): Promise<void> }> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = freshName(prefix);
  await core.createNamespace({ body: { metadata: { name } } });
  return {
    name,
    delete: async () => {
      await core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}

export const WORKER_LABELS = { 'app.kubernetes.io/name': 'tickmesh', 'app.kubernetes.io/component': 'worker' };
export const WORKER_SELECTOR = 'app.kubernetes.io/name=tickmesh,app.kubernetes.io/component=worker';

export async function createWorkerPod(
  core: CoreV1Api,
  namespace: string,
  name: string,
  extra: { finalizers?: string[] } = {},
): Promise<V1Pod> {
  return core.createNamespacedPod({
    namespace,
    body: {
      metadata: {
        name,
        namespace,
        labels: WORKER_LABELS,
        ...(extra.finalizers ? { finalizers: extra.finalizers } : {}),
      },
      spec: { containers: [{ name: 'worker', image: 'registry.invalid/tickmesh-test:none' }] },
    },
  });
}

/** Plays the kubelet (none runs here): reports the pod Running with Ready = `ready`. */
export async function setPodReady(core: CoreV1Api, namespace: string, name: string, ready: boolean): Promise<void> {
  const now = new Date().toISOString();
  const status = ready ? 'True' : 'False';
  await core.patchNamespacedPodStatus(
    {
      name,
      namespace,
      body: {
        status: {
          phase: 'Running',
          startTime: now,
          conditions: [
            { type: 'ContainersReady', status, lastTransitionTime: now },
            { type: 'Ready', status, lastTransitionTime: now },
          ],
        },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
}

/**
 * Plays the workers' heartbeats (internal/worker/heartbeat.ts) on the real NATS: every `everyMs`,
 * publishes what `beats` returns, each member's partitions stamped with the current time. Returns
 * the function that stops it.
 */
export function publishHeartbeats(
  bus: Bus,
  beats: () =>
    | ReadonlyArray<{ member: string; partitions: readonly PartitionBeat[] }>
    | Promise<ReadonlyArray<{ member: string; partitions: readonly PartitionBeat[] }>>,
  everyMs = 100,
): () => void {
  const timer = setInterval(() => {
    void Promise.resolve(beats()).then((list) => {
      for (const { member, partitions } of list)
        bus.publish(heartbeatSubject(member), encodeHeartbeat({ member, partitions, time: Date.now() }));
    });
  }, everyMs);
  return () => clearInterval(timer);
}

/**
 * A TCP proxy in front of the API server that can cut every connection and refuse new ones: a
 * network fault between one client and a real server (the server itself is shared and left alone).
 */
export class FaultProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  port = 0;

  constructor(
    private readonly host: string,
    private readonly upstreamPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (this.refusing) {
        client.destroy();
        return;
      }
      const upstream = connect(this.upstreamPort, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, this.host, resolve));
    this.port = (this.server!.address() as { port: number }).port;
  }

  /** Drops every open connection; with `refuse`, new ones are closed at once until heal(). */
  cut(refuse: boolean): void {
    this.refusing = refuse;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  heal(): void {
    this.refusing = false;
  }

  /** A kubeconfig like `kc` whose cluster is reached through this proxy (same TLS name: the same IP). */
  kubeConfig(kc: KubeConfig): KubeConfig {
    const through = new KubeConfig();
    const cluster = kc.getCurrentCluster()!;
    const url = new URL(cluster.server);
    url.port = String(this.port);
    through.loadFromOptions({
      clusters: kc
        .getClusters()
        .map((c) => (c.name === cluster.name ? { ...c, server: url.toString().replace(/\/$/, '') } : c)),
      users: kc.getUsers(),
      contexts: kc.getContexts(),
      currentContext: kc.getCurrentContext(),
    });
    return through;
  }

  async close(): Promise<void> {
    this.cut(true);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export function apiServerAddress(kc: KubeConfig): { host: string; port: number } {
  const url = new URL(kc.getCurrentCluster()!.server);
  return { host: url.hostname, port: Number(url.port) };
}

/**
 * `tickmesh operator` in this process against the test's kube-apiserver and NATS: 4 partitions,
 * a 2 s lease, a fresh KV bucket, warnings only, and `flags` on top. stop() aborts it and waits.
 */
export function startInProcessOperator(namespace: string, flags: readonly string[]): { stop(): Promise<void> } {
  const config = parseOperatorConfig(
    [
      `--kubeconfig=${endpoint('KUBECONFIG')}`,
      `--namespace=${namespace}`,
      '--partitions=4',
      `--identity=${freshName('op')}`,
      '--lease-duration=2',
      '--renew-deadline=1500',
      '--retry-period=250',
      `--nats=${endpoint('NATS_URL')}`,
      `--placement-bucket=${freshName('placement')}`,
      '--metrics-port=0',
      '--log-level=warn',
      ...flags,
    ],
    {},
  );
  const controller = new AbortController();
  const running = runOperator(config, controller.signal);
  return {
    async stop() {
      controller.abort();
      await running;
    },
  };
}
