import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../internal/bus/bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { silentLogger } from '../../internal/observe/logger.js';
import type { PartitionBeat } from '../../internal/operator/heartbeat-message.js';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import {
  freshNamespace,
  kubeConfig,
  publishHeartbeats,
  startInProcessOperator,
  WORKER_LABELS,
} from './operator-support.js';

// Autoscaling (issue 6, optional part) against the real kube-apiserver and NATS: the operator runs
// in this process with autoscaling on; the test publishes worker heartbeats on NATS (a worker that
// is behind, then one that has caught up) and watches the worker Deployment's replica count move
// through the scale subresource, with a Scaled Event for each step. No worker process runs: the
// autoscaler reads only the heartbeats and the Deployment.

const DEPLOYMENT = 'tm-worker';

describe('operator autoscaling on the real kube-apiserver', () => {
  let kc: KubeConfig;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let ns: { name: string; delete(): Promise<void> };
  let bus: Bus;
  let operator: { stop(): Promise<void> } | undefined;
  let stopBeats: (() => void) | undefined;
  let report: PartitionBeat[] = [];

  const replicas = async () =>
    (await apps.readNamespacedDeploymentScale({ name: DEPLOYMENT, namespace: ns.name })).spec?.replicas;

  beforeAll(async () => {
    kc = kubeConfig();
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    ns = await freshNamespace(kc, 'autoscale');
    await apps.createNamespacedDeployment({
      namespace: ns.name,
      body: {
        metadata: { name: DEPLOYMENT, labels: WORKER_LABELS },
        spec: {
          replicas: 1,
          selector: { matchLabels: WORKER_LABELS },
          template: {
            metadata: { labels: WORKER_LABELS },
            spec: { containers: [{ name: 'worker', image: 'tickmesh:test' }] },
          },
        },
      },
    });
    bus = await createNatsBus({ servers: endpoint('NATS_URL'), logger: silentLogger() });
    const member = freshName('w');
    stopBeats = publishHeartbeats(bus, () => [{ member, partitions: report }]);
    operator = startInProcessOperator(ns.name, [
      // Autoscaling alone: it hears the heartbeats without the liveness signal or load weighing.
      '--liveness-timeout=0',
      '--load-interval=0',
      `--autoscale-deployment=${DEPLOYMENT}`,
      '--autoscale-min=1',
      '--autoscale-max=3',
      '--autoscale-lag=1000',
      '--autoscale-up-after=500',
      '--autoscale-down-after=1500',
      '--autoscale-cooldown=1000',
      '--autoscale-every=100',
    ]);
  }, 60_000);

  afterAll(async () => {
    stopBeats?.();
    await operator?.stop();
    await bus?.close();
    await ns?.delete();
  });

  it('adds replicas one step at a time while the workers stay behind, up to the maximum', async () => {
    report = [
      { partition: 0, epoch: 1, rate: 400, lag: 3_000, paused: false },
      { partition: 1, epoch: 1, rate: 100, lag: 500, paused: false },
    ];
    const startedAt = Date.now();
    await eventually('2 replicas', async () => ((await replicas()) === 2 ? true : undefined), 30_000, 50);
    const twoAt = Date.now();
    await eventually('3 replicas', async () => ((await replicas()) === 3 ? true : undefined), 30_000, 50);
    const threeAt = Date.now();
    // Pressure must be held (0.5 s) before the first step, and the cooldown (1 s) separates steps
    // (less the 50 ms this test's polling may see the first step late).
    expect(twoAt - startedAt).toBeGreaterThanOrEqual(500);
    expect(threeAt - twoAt).toBeGreaterThanOrEqual(900);
    // The maximum holds under continued pressure.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await replicas()).toBe(3);
  }, 60_000);

  it('removes replicas after sustained calm, down to the minimum, and records each step as an Event', async () => {
    report = [
      { partition: 0, epoch: 1, rate: 400, lag: 0, paused: false },
      { partition: 1, epoch: 1, rate: 100, lag: 20, paused: false },
    ];
    await eventually('1 replica', async () => ((await replicas()) === 1 ? true : undefined), 30_000, 50);
    // Each Event is recorded just after its step.
    const messages = await eventually(
      'four Scaled Events',
      async () => {
        const events = await core.listNamespacedEvent({
          namespace: ns.name,
          fieldSelector: `involvedObject.name=${DEPLOYMENT},reason=Scaled`,
        });
        return events.items.length >= 4 ? events.items.map((e) => e.message ?? '').sort() : undefined;
      },
      10_000,
      50,
    );
    expect(messages).toEqual([
      expect.stringMatching(/replicas 1 -> 2 \(lag: lag 3500 records, 0 paused, 500 trades\/s\)/),
      expect.stringMatching(/replicas 2 -> 1 \(calm/),
      expect.stringMatching(/replicas 2 -> 3 \(lag/),
      expect.stringMatching(/replicas 3 -> 2 \(calm/),
    ]);
  }, 60_000);

  it('treats a paused partition as pressure, and leaves a count a person set inside the bounds', async () => {
    report = [{ partition: 0, epoch: 1, rate: 10, lag: 0, paused: true }];
    await eventually('2 replicas', async () => ((await replicas()) === 2 ? true : undefined), 30_000, 50);
    // A person sets 3 by hand while it is calm: the autoscaler's clocks restart, so 3 holds for
    // at least the calm period (1.5 s) before the first step down.
    report = [{ partition: 0, epoch: 1, rate: 10, lag: 0, paused: false }];
    // As `kubectl scale` does: read, write over that version, again on a conflict (the Deployment
    // controller writes the status too).
    await eventually(
      'the scale set to 3 by hand',
      async () => {
        const scale = await apps.readNamespacedDeploymentScale({ name: DEPLOYMENT, namespace: ns.name });
        return apps
          .replaceNamespacedDeploymentScale({
            name: DEPLOYMENT,
            namespace: ns.name,
            body: { ...scale, spec: { replicas: 3 } },
          })
          .then(() => true)
          .catch((err: { code?: number }) => {
            if (err.code === 409) return undefined;
            throw err;
          });
      },
      10_000,
      20,
    );
    const setAt = Date.now();
    await eventually('a step down from 3', async () => ((await replicas()) === 2 ? true : undefined), 30_000, 50);
    expect(Date.now() - setAt).toBeGreaterThanOrEqual(1_000);
  }, 60_000);
});
