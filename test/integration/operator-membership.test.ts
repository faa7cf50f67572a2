import { CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../internal/observe/logger.js';
import { createMembership, type MembershipChange } from '../../internal/operator/membership.js';
import { eventually } from '../harness/eventually.js';
import {
  apiServerAddress,
  createWorkerPod,
  FaultProxy,
  freshNamespace,
  kubeConfig,
  setPodReady,
  WORKER_SELECTOR,
} from './operator-support.js';

// Membership from the real kube-apiserver: Ready, non-terminating worker pods are members; the
// watch survives dropped connections and an unreachable API server.

describe('operator membership (real kube-apiserver)', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns: { name: string; delete(): Promise<void> };

  beforeAll(async () => {
    kc = kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ns = await freshNamespace(kc, 'op-members');
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('follows pods becoming Ready, unready, terminating and deleted', async () => {
    const changes: MembershipChange[] = [];
    const membership = createMembership({
      kubeConfig: kc,
      namespace: ns.name,
      labelSelector: WORKER_SELECTOR,
      logger: silentLogger(),
      onChange: (c) => changes.push(c),
    });
    const ac = new AbortController();
    await membership.start(ac.signal);
    expect(membership.members()).toEqual([]);
    const members = (want: string[]) =>
      eventually(`members ${want.join(',')}`, async () =>
        JSON.stringify(membership.members()) === JSON.stringify(want) ? true : undefined,
      );

    await createWorkerPod(core, ns.name, 'w-0');
    await createWorkerPod(core, ns.name, 'w-1');
    await createWorkerPod(core, ns.name, 'w-2', { finalizers: ['tickmesh.io/test-hold'] });
    // Not a worker: same namespace, other labels.
    await core.createNamespacedPod({
      namespace: ns.name,
      body: { metadata: { name: 'other' }, spec: { containers: [{ name: 'c', image: 'registry.invalid/x:none' }] } },
    });
    await setPodReady(core, ns.name, 'other', true);
    await new Promise((r) => setTimeout(r, 300));
    expect(membership.members()).toEqual([]);

    const t0 = Date.now();
    await setPodReady(core, ns.name, 'w-0', true);
    await members(['w-0']);
    console.log(`membership: pod Ready to member in ${Date.now() - t0} ms`);
    await setPodReady(core, ns.name, 'w-1', true);
    await setPodReady(core, ns.name, 'w-2', true);
    await members(['w-0', 'w-1', 'w-2']);

    await setPodReady(core, ns.name, 'w-1', false);
    await members(['w-0', 'w-2']);

    // A pod being deleted leaves at once, though it still exists (held by its finalizer).
    await core.deleteNamespacedPod({ name: 'w-2', namespace: ns.name });
    await members(['w-0']);
    expect(
      (await core.readNamespacedPod({ name: 'w-2', namespace: ns.name })).metadata?.deletionTimestamp,
    ).toBeTruthy();

    await core.deleteNamespacedPod({ name: 'w-0', namespace: ns.name, gracePeriodSeconds: 0 });
    await members([]);

    const last = changes.at(-1)!;
    expect(last.left).toEqual(['w-0']);
    expect(changes.map((c) => c.members.join(','))).toEqual(['w-0', 'w-0,w-1', 'w-0,w-1,w-2', 'w-0,w-2', 'w-0', '']);
    ac.abort();
    await membership.close();
    await core.patchNamespacedPod(
      { name: 'w-2', namespace: ns.name, body: [{ op: 'remove', path: '/metadata/finalizers' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
  });

  it('survives dropped connections and an unreachable API server, and catches up on what it missed', async () => {
    const { host, port } = apiServerAddress(kc);
    const proxy = new FaultProxy(host, port);
    await proxy.start();
    const membership = createMembership({
      kubeConfig: proxy.kubeConfig(kc),
      namespace: ns.name,
      labelSelector: WORKER_SELECTOR,
      logger: silentLogger(),
      onChange: () => undefined,
      backoff: { initialMs: 100, maxMs: 1_000 },
    });
    const ac = new AbortController();
    try {
      await membership.start(ac.signal);
      await createWorkerPod(core, ns.name, 'x-0');
      await setPodReady(core, ns.name, 'x-0', true);
      await eventually('x-0', async () => (membership.members().includes('x-0') ? true : undefined));

      // Dropped connection, server still reachable: the watch reconnects and resumes.
      proxy.cut(false);
      await createWorkerPod(core, ns.name, 'x-1');
      await setPodReady(core, ns.name, 'x-1', true);
      await eventually('x-1 after a dropped watch', async () =>
        membership.members().includes('x-1') ? true : undefined,
      );

      // API server unreachable for 3 s while pods change: list and watch fail and are retried with backoff.
      proxy.cut(true);
      await createWorkerPod(core, ns.name, 'x-2');
      await setPodReady(core, ns.name, 'x-2', true);
      await core.deleteNamespacedPod({ name: 'x-0', namespace: ns.name, gracePeriodSeconds: 0 });
      await new Promise((r) => setTimeout(r, 3_000));
      expect(membership.members()).toEqual(['x-0', 'x-1']);
      const healedAt = Date.now();
      proxy.heal();
      await eventually('x-1, x-2 after the outage', async () =>
        JSON.stringify(membership.members()) === JSON.stringify(['x-1', 'x-2']) ? true : undefined,
      );
      console.log(`membership: caught up ${Date.now() - healedAt} ms after the API server became reachable`);
    } finally {
      ac.abort();
      await membership.close();
      await proxy.close();
    }
  });
});
