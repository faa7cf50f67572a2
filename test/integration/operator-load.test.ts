import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../internal/bus/bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { type PlacementDocument, parseDocument } from '../../internal/operator/placement-document.js';
import { PLACEMENT_CONFIGMAP, PLACEMENT_KEY } from '../../internal/operator/publication.js';
import { endpoint } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import {
  createWorkerPod,
  freshNamespace,
  kubeConfig,
  publishHeartbeats,
  setPodReady,
  startInProcessOperator,
} from './operator-support.js';

// Load-weighted placement through the real operator (in this process) on the real kube-apiserver
// and NATS: two Ready worker pods, and heartbeats, published by this test for each pod, that
// report the partitions the pod owns in the latest ConfigMap with their measured input rates.
// Two partitions carry 300 trades/s, two carry 10: whichever pod holds both heavy ones sends one
// of them away in exchange for a light one, and the placement then stays put.

const RATES = [300, 300, 10, 10];

describe('operator placement by measured load on the real kube-apiserver', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns: { name: string; delete(): Promise<void> };
  let bus: Bus;
  let operator: { stop(): Promise<void> } | undefined;
  let stopBeats: (() => void) | undefined;
  let rates = [1, 1, 1, 1];

  const placement = async (): Promise<PlacementDocument | undefined> => {
    const cm = await core
      .readNamespacedConfigMap({ name: PLACEMENT_CONFIGMAP, namespace: ns.name })
      .catch(() => undefined);
    const text = cm?.data?.[PLACEMENT_KEY];
    return text ? parseDocument(text) : undefined;
  };
  const loadOf = (doc: PlacementDocument, member: string) =>
    doc.partitions.filter((p) => p.owner === member).reduce((sum, p) => sum + (rates[p.partition] ?? 0), 0);

  beforeAll(async () => {
    kc = kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ns = await freshNamespace(kc, 'load');
    for (const pod of ['w-a', 'w-b']) {
      await createWorkerPod(core, ns.name, pod);
      await setPodReady(core, ns.name, pod, true);
    }
    bus = await createNatsBus({ servers: endpoint('NATS_URL'), logger: silentLogger() });
    // Each pod beats what it owns in the latest placement, with the partitions' rates.
    stopBeats = publishHeartbeats(bus, async () => {
      const doc = await placement();
      return ['w-a', 'w-b'].map((member) => ({
        member,
        partitions: (doc?.partitions ?? [])
          .filter((p) => p.owner === member)
          .map((p) => ({ partition: p.partition, epoch: p.epoch, rate: rates[p.partition] ?? 0, lag: 0 })),
      }));
    });
    operator = startInProcessOperator(ns.name, [
      '--liveness-timeout=0',
      '--debounce=20',
      '--round-interval=100',
      '--load-interval=300',
      '--load-min-rate=50',
      // The count placement moves every partition first; the default cooldown would hold them a minute.
      '--load-cooldown=1000',
    ]);
  }, 60_000);

  afterAll(async () => {
    stopBeats?.();
    await operator?.stop();
    await bus?.close();
    await ns?.delete();
  });

  it('balances counts while the load is below the floor, then exchanges a heavy partition for a light one', async () => {
    const first = await eventually(
      'a placement over both pods',
      async () => {
        const doc = await placement();
        return doc && doc.members.length === 2 && doc.partitions.every((p) => p.owner !== null) ? doc : undefined;
      },
      30_000,
      100,
    );
    // Arrange the worst case for the check below: whatever the first placement, call the two
    // partitions of w-a the heavy ones.
    const ofA = first.partitions.filter((p) => p.owner === 'w-a').map((p) => p.partition);
    expect(ofA).toHaveLength(2);
    const next = [...RATES].fill(10);
    for (const p of ofA) next[p] = 300;
    rates = next;
    expect(loadOf(first, 'w-a')).toBe(600);

    const balanced = await eventually(
      'a placement that weighs the measured rates',
      async () => {
        const doc = await placement();
        return doc && loadOf(doc, 'w-a') === 310 && loadOf(doc, 'w-b') === 310 ? doc : undefined;
      },
      30_000,
      100,
    );
    // Counts stay within one, two partitions moved (one each way), each at a new epoch.
    const moved = balanced.partitions.filter((p) => p.owner !== first.partitions[p.partition]?.owner);
    expect(moved).toHaveLength(2);
    expect(moved.every((p) => p.epoch > first.epoch)).toBe(true);
    // The Event is recorded just after the placement is published.
    await eventually(
      'the Rebalanced Event of the load exchange',
      async () => {
        const events = await core.listNamespacedEvent({ namespace: ns.name, fieldSelector: 'reason=Rebalanced' });
        return events.items.some((e) =>
          /moved 2 of 4 partitions \(orphan 0, balance 0, load 2\); trigger load/.test(e.message ?? ''),
        )
          ? true
          : undefined;
      },
      10_000,
      100,
    );

    // Balanced within the tolerance: further load checks move nothing.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await placement())?.version).toBe(balanced.version);
  }, 60_000);
});
