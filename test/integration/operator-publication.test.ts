import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../internal/observe/logger.js';
import { createMembership } from '../../internal/operator/membership.js';
import { createOperatorMetrics } from '../../internal/operator/metrics.js';
import { parseDocument } from '../../internal/operator/placement-document.js';
import {
  createConfigMapStore,
  createEventRecorder,
  PLACEMENT_CONFIGMAP,
  PLACEMENT_KEY,
} from '../../internal/operator/publication.js';
import { createReconciler } from '../../internal/operator/reconciler.js';
import { FencedError } from '../../internal/runtime/errors.js';
import { eventually } from '../harness/eventually.js';
import { createWorkerPod, freshNamespace, kubeConfig, setPodReady, WORKER_SELECTOR } from './operator-support.js';

// Publication to the real kube-apiserver: the placement ConfigMap that kubectl shows, one Event per
// rebalance, and fencing of a stale writer by resourceVersion.

describe('operator publication (real kube-apiserver)', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns: { name: string; delete(): Promise<void> };

  beforeAll(async () => {
    kc = kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ns = await freshNamespace(kc, 'op-publish');
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('writes the placement ConfigMap and a Rebalanced Event as workers become Ready and leave', async () => {
    const registry = new Registry();
    const store = createConfigMapStore({ api: core, namespace: ns.name });
    const recorder = createEventRecorder({
      api: core,
      namespace: ns.name,
      component: 'tickmesh-operator',
      instance: 'op-test',
    });
    const ac = new AbortController();
    const reconciler = createReconciler({
      store,
      events: { on: () => store.reference(), recorder },
      members: () => membership.members(),
      partitionCount: 12,
      options: { tolerance: 0.2, maxMovesPerRound: 100 },
      identity: 'op-test',
      logger: silentLogger(),
      metrics: createOperatorMetrics(registry),
      debounceMs: 50,
    });
    const membership = createMembership({
      kubeConfig: kc,
      namespace: ns.name,
      labelSelector: WORKER_SELECTOR,
      logger: silentLogger(),
      onChange: () => reconciler.notify('membership'),
    });
    await membership.start(ac.signal);
    const running = reconciler.run(ac.signal);

    const readDoc = async () => {
      const cm = await core.readNamespacedConfigMap({ name: PLACEMENT_CONFIGMAP, namespace: ns.name });
      return parseDocument(cm.data?.[PLACEMENT_KEY] ?? '');
    };
    const placed = (members: string[]) =>
      eventually(`placement on ${members.join(',')}`, async () => {
        const doc = await readDoc();
        return JSON.stringify(doc.members) === JSON.stringify(members) ? doc : undefined;
      });

    for (const name of ['w-0', 'w-1', 'w-2']) await createWorkerPod(core, ns.name, name);
    const t0 = Date.now();
    for (const name of ['w-0', 'w-1', 'w-2']) await setPodReady(core, ns.name, name, true);
    const three = await placed(['w-0', 'w-1', 'w-2']);
    console.log(`publication: 3 pods Ready to ConfigMap placement in ${Date.now() - t0} ms`);
    const owners = (doc: typeof three) => doc.partitions.map((p) => p.owner);
    for (const m of three.members) expect(owners(three).filter((o) => o === m)).toHaveLength(4);

    const cm = await core.readNamespacedConfigMap({ name: PLACEMENT_CONFIGMAP, namespace: ns.name });
    expect(cm.metadata?.annotations?.['tickmesh.io/placement-version']).toBe(String(three.version));
    expect(cm.data?.['owners.txt']).toContain(`0 ${three.partitions[0]!.owner} e${three.partitions[0]!.epoch}`);

    // w-1 leaves: only its 4 partitions move, with new epochs; the others keep owner and epoch.
    const t1 = Date.now();
    await core.deleteNamespacedPod({ name: 'w-1', namespace: ns.name, gracePeriodSeconds: 0 });
    const two = await placed(['w-0', 'w-2']);
    console.log(`publication: pod deleted to ConfigMap placement in ${Date.now() - t1} ms`);
    for (const p of two.partitions) {
      const was = three.partitions[p.partition]!;
      if (was.owner === 'w-1') {
        expect(p.previousOwner).toBe('w-1');
        expect(p.epoch).toBeGreaterThan(three.epoch);
      } else {
        expect(p).toEqual(was);
      }
    }

    // The ramp to three workers may take more than one placement (and so more than one Event):
    // wait for the Event of the last one, not for any two.
    const last = (e: { message?: string }) =>
      e.message?.includes(`placement v${two.version}`) === true && e.message.includes('moved 4 of 12');
    const events = await eventually('two Rebalanced events, the last move among them', async () => {
      const list = await core.listNamespacedEvent({ namespace: ns.name });
      const mine = list.items.filter((e) => e.reason === 'Rebalanced');
      return mine.length >= 2 && mine.some(last) ? mine : undefined;
    });
    expect(
      events.every((e) => e.involvedObject.kind === 'ConfigMap' && e.involvedObject.name === PLACEMENT_CONFIGMAP),
    ).toBe(true);
    expect(events.some(last)).toBe(true);

    const metrics = await registry.getSingleMetricAsString('tickmesh_operator_partitions_moved_total');
    // 12 first placements and w-1's 4 partitions: 16 orphans, whatever rounds the Ready events fell into.
    expect(metrics).toMatch(/reason="orphan"} 16$/m);
    ac.abort();
    await running;
    await membership.close();
  });

  it('refuses a write from an operator whose view of the ConfigMap is stale', async () => {
    const name = 'tickmesh-placement-fence';
    const a = createConfigMapStore({ api: core, namespace: ns.name, name });
    const b = createConfigMapStore({ api: core, namespace: ns.name, name });
    expect(await a.read()).toBeNull();
    expect(await b.read()).toBeNull();
    const doc = {
      format: 'tickmesh.placement.v1' as const,
      version: 1,
      epoch: 1,
      partitionCount: 1,
      members: ['w'],
      partitions: [{ partition: 0, owner: 'w', epoch: 1, previousOwner: null }],
      publishedBy: 'a',
      publishedAt: new Date().toISOString(),
    };
    await a.write(doc);
    // b read before a created it: its create is refused.
    await expect(b.write({ ...doc, publishedBy: 'b' })).rejects.toBeInstanceOf(FencedError);
    expect((await b.read())?.publishedBy).toBe('a');
    await b.write({ ...doc, version: 2, publishedBy: 'b' });
    // Now a is stale: its replace carries an old resourceVersion.
    await expect(a.write({ ...doc, version: 3 })).rejects.toBeInstanceOf(FencedError);
    expect((await a.read())?.version).toBe(2);
  });
});
