import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1Deployment,
  type V1Node,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';

// The control plane of test/infra/kube.sh: kube-apiserver, kube-controller-manager and
// kube-scheduler over etcd, and no kubelet. The controller-manager turns a Deployment into pods and
// the scheduler binds them to a Node this test creates; the test then plays the kubelet and
// reports a pod Running and Ready, as the operator's tests will.

const APP = 'hello';
const CONTAINER = 'app';

/** Every pod of one namespace as a watch reports it, with waiters on the set. */
class PodWatch {
  readonly pods = new Map<string, V1Pod>();
  private waiters: { check: () => boolean; resolve: () => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;
  private abort: AbortController | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
  ) {}

  async start(): Promise<void> {
    this.abort = await new Watch(this.kc).watch(
      `/api/v1/namespaces/${this.namespace}/pods`,
      {},
      (phase: string, pod: V1Pod) => {
        const name = pod.metadata?.name;
        if (!name) return;
        if (phase === 'DELETED') this.pods.delete(name);
        else if (phase === 'ADDED' || phase === 'MODIFIED') this.pods.set(name, pod);
        this.settle();
      },
      (err: unknown) => {
        if (this.abort?.signal.aborted && !this.failure) return;
        this.failure = new Error(`pod watch in ${this.namespace} ended: ${String(err)}`);
        for (const w of this.waiters.splice(0)) w.reject(this.failure);
      },
    );
  }

  /** Resolves once `check` holds for the pods seen; fails after `ms`, saying what it saw. */
  until(what: string, check: (pods: V1Pod[]) => boolean, ms = 60_000): Promise<V1Pod[]> {
    const all = () => [...this.pods.values()];
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = all().map((p) => `${p.metadata?.name} node=${p.spec?.nodeName ?? '-'} ${p.status?.phase}`);
        reject(new Error(`timed out after ${ms}ms waiting for ${what}; pods: ${JSON.stringify(seen)}`));
      }, ms);
      const waiter = {
        check: () => check(all()),
        resolve: () => {
          clearTimeout(timer);
          resolve(all());
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
      this.settle();
    });
  }

  stop(): void {
    this.abort?.abort();
  }

  private settle(): void {
    for (const w of [...this.waiters]) {
      if (w.check()) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve();
      }
    }
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

describe('Kubernetes control plane', () => {
  const kc = new KubeConfig();
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const namespace = freshName('kube');
  const nodeName = `${namespace}-node`;
  let pods: PodWatch;

  beforeAll(async () => {
    kc.loadFromFile(endpoint('KUBECONFIG'));
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    pods = new PodWatch(kc, namespace);
    await pods.start();
  });

  afterAll(async () => {
    pods?.stop();
    await core?.deleteNode({ name: nodeName }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
    await core?.deleteNamespace({ name: namespace }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  });

  it('runs a Deployment: pods created, scheduled, scaled, reported Ready; the namespace deleted', async () => {
    // A node of our own: the taint keeps other tests' pods off it, and only our pods tolerate it.
    const node: V1Node = {
      metadata: { name: nodeName, labels: { 'tickmesh.test/node': nodeName } },
      spec: { taints: [{ key: 'tickmesh.test/namespace', value: namespace, effect: 'NoSchedule' }] },
      status: {
        capacity: { cpu: '4', memory: '8Gi', pods: '110' },
        allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date() }],
      },
    };
    await core.createNode({ body: node });

    const deployment: V1Deployment = {
      metadata: { name: APP, namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: APP } },
        template: {
          metadata: { labels: { app: APP } },
          spec: {
            nodeSelector: { 'tickmesh.test/node': nodeName },
            tolerations: [
              { key: 'tickmesh.test/namespace', operator: 'Equal', value: namespace, effect: 'NoSchedule' },
            ],
            // Never pulled: no kubelet runs.
            containers: [{ name: CONTAINER, image: 'registry.invalid/tickmesh-test:none' }],
          },
        },
      },
    };
    await apps.createNamespacedDeployment({ namespace, body: deployment });

    // The controller-manager: Deployment -> ReplicaSet -> 2 pods; the scheduler binds both.
    const bound = (n: number) => (all: V1Pod[]) => all.length === n && all.every((p) => p.spec?.nodeName === nodeName);
    const first = await pods.until('2 pods bound to the node', bound(2));
    for (const pod of first) {
      const owner = pod.metadata?.ownerReferences?.[0];
      expect(owner?.kind).toBe('ReplicaSet');
      expect(owner?.name.startsWith(`${APP}-`)).toBe(true);
    }
    const firstNames = new Set(first.map((p) => p.metadata?.name));

    await apps.replaceNamespacedDeploymentScale({
      name: APP,
      namespace,
      body: { metadata: { name: APP, namespace }, spec: { replicas: 3 } },
    });
    const scaled = await pods.until('a third pod bound to the node', bound(3));
    const added = scaled.filter((p) => !firstNames.has(p.metadata?.name));
    expect(added).toHaveLength(1);

    // Play the kubelet: report one pod Running and Ready. Strategic merge keeps the scheduler's
    // PodScheduled condition (conditions merge by type).
    const target = added[0]?.metadata?.name as string;
    const now = new Date().toISOString();
    await core.patchNamespacedPodStatus(
      {
        name: target,
        namespace,
        body: {
          status: {
            phase: 'Running',
            startTime: now,
            conditions: [
              { type: 'Initialized', status: 'True', lastTransitionTime: now },
              { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
              { type: 'Ready', status: 'True', lastTransitionTime: now },
            ],
            containerStatuses: [
              {
                name: CONTAINER,
                image: 'registry.invalid/tickmesh-test:none',
                imageID: '',
                ready: true,
                started: true,
                restartCount: 0,
                state: { running: { startedAt: now } },
              },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const running = await core.readNamespacedPod({ name: target, namespace });
    expect(running.status?.phase).toBe('Running');
    const conditions = new Map(running.status?.conditions?.map((c) => [c.type, c.status]));
    expect(conditions.get('Ready')).toBe('True');
    expect(conditions.get('PodScheduled')).toBe('True');

    // The controllers see it: exactly the one pod we reported counts as ready.
    const ready = await eventually(
      'the Deployment to count 1 ready replica',
      async () => {
        const d = await apps.readNamespacedDeployment({ name: APP, namespace });
        return d.status?.readyReplicas === 1 ? d : undefined;
      },
      60_000,
      250,
    );
    expect(ready.status?.replicas).toBe(3);

    // Deleting the namespace deletes everything in it. Pods bound to a node wait for their kubelet
    // to confirm termination; there is none, so the test removes them at once, as a kubelet would.
    await core.deleteNamespace({ name: namespace });
    await eventually(
      'the namespace to be deleted',
      async () => {
        try {
          await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 });
          await core.readNamespace({ name: namespace });
          return undefined;
        } catch (err) {
          if (isNotFound(err)) return true;
          throw err;
        }
      },
      120_000,
    );
  });
});

describe('Kubernetes RBAC', () => {
  const namespace = freshName('rbac');
  const kc = new KubeConfig();
  let core: CoreV1Api;

  afterAll(async () => {
    await core?.deleteNamespace({ name: namespace }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  });

  it('holds a service account to the Role bound to it', async () => {
    kc.loadFromFile(endpoint('KUBECONFIG'));
    core = kc.makeApiClient(CoreV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const sa = 'reader';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } });
    // An empty audience list means the API server's own audience.
    const { status } = await core.createNamespacedServiceAccountToken({
      name: sa,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const cluster = kc.getCurrentCluster();
    if (!cluster || !status?.token) throw new Error('no cluster in the kubeconfig or no token issued');
    const asSa = new KubeConfig();
    asSa.loadFromClusterAndUser(cluster, { name: sa, token: status.token });
    const saCore = asSa.makeApiClient(CoreV1Api);

    await expect(saCore.listNamespacedPod({ namespace })).rejects.toMatchObject({ code: 403 });

    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'pod-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: sa, namespace }],
      },
    });
    // The authorizer reads RBAC objects through informers: the binding takes effect shortly after.
    const list = await eventually(
      'the RoleBinding to take effect',
      () => saCore.listNamespacedPod({ namespace }),
      30_000,
      250,
    );
    expect(list.items).toEqual([]);
    // Bound to read pods in its namespace, and to nothing more.
    await expect(saCore.listNamespacedConfigMap({ namespace })).rejects.toMatchObject({ code: 403 });
    await expect(saCore.listNamespacedPod({ namespace: 'default' })).rejects.toMatchObject({ code: 403 });
  });
});
