import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../internal/observe/logger.js';
import { createLeaderElector, type LeaderElector } from '../../internal/operator/lease.js';
import { freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { apiServerAddress, FaultProxy, freshNamespace, kubeConfig } from './operator-support.js';

// Leader election against the real kube-apiserver: one leader at a time, handover on release,
// takeover after expiry, and a leader cut off from the API server stops leading before anyone
// else can start.

const TIMING = { leaseDurationSeconds: 2, renewDeadlineMs: 1_500, retryPeriodMs: 250 };

interface Candidate {
  readonly id: string;
  readonly elector: LeaderElector;
  readonly controller: AbortController;
  readonly running: Promise<void>;
  readonly log: { event: 'start' | 'stop'; at: number }[];
}

function candidate(kc: KubeConfig, namespace: string, lease: string, id: string): Candidate {
  const log: Candidate['log'] = [];
  const controller = new AbortController();
  const elector = createLeaderElector({
    api: kc.makeApiClient(CoordinationV1Api),
    logger: silentLogger(),
    options: { namespace, name: lease, identity: id, ...TIMING },
    onStartedLeading: async (signal) => {
      log.push({ event: 'start', at: Date.now() });
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    },
    onStoppedLeading: () => log.push({ event: 'stop', at: Date.now() }),
  });
  return { id, elector, controller, log, running: elector.run(controller.signal) };
}

/** Samples who leads every 10 ms and fails if two candidates ever claim it at once. */
function exclusionMonitor(cands: () => Candidate[]): { stop(): void; violations: number } {
  const state = { violations: 0, stop: () => clearInterval(timer) };
  const timer = setInterval(() => {
    if (cands().filter((c) => c.elector.isLeader).length > 1) state.violations++;
  }, 10);
  return state;
}

describe('operator lease (real kube-apiserver)', () => {
  let kc: KubeConfig;
  let ns: { name: string; delete(): Promise<void> };

  beforeAll(async () => {
    kc = kubeConfig();
    ns = await freshNamespace(kc, 'op-lease');
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('one of two candidates leads; on release the other takes over within a retry period', async () => {
    const lease = freshName('lease');
    const a = candidate(kc, ns.name, lease, 'a');
    const b = candidate(kc, ns.name, lease, 'b');
    const all = [a, b];
    const monitor = exclusionMonitor(() => all);
    const first = await eventually('a leader', async () => all.find((c) => c.elector.isLeader));
    const second = first === a ? b : a;
    // Stays the only leader across several renewals.
    await new Promise((r) => setTimeout(r, 3 * TIMING.leaseDurationSeconds * 1000));
    expect(first.elector.isLeader).toBe(true);
    expect(second.elector.isLeader).toBe(false);

    const abortedAt = Date.now();
    first.controller.abort();
    await first.running;
    await eventually('the standby to lead', async () => (second.elector.isLeader ? true : undefined));
    const takeoverMs = second.log.find((e) => e.event === 'start')!.at - abortedAt;
    console.log(`lease handover after release: ${takeoverMs} ms`);
    // Released, not expired: well under the lease duration.
    expect(takeoverMs).toBeLessThan(TIMING.leaseDurationSeconds * 1000);

    const l = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: lease, namespace: ns.name });
    expect(l.spec?.holderIdentity).toBe(second.id);
    expect(l.spec?.leaseTransitions).toBe(1);
    second.controller.abort();
    await second.running;
    monitor.stop();
    expect(monitor.violations).toBe(0);
    const released = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: lease, namespace: ns.name });
    expect(released.spec?.holderIdentity ?? '').toBe('');
  });

  it('a leader cut off from the API server stops leading before the other starts; takeover after expiry', async () => {
    const lease = freshName('lease');
    const { host, port } = apiServerAddress(kc);
    const proxy = new FaultProxy(host, port);
    await proxy.start();
    try {
      // a reaches the API server through the proxy, b directly; a starts first and leads.
      const a = candidate(proxy.kubeConfig(kc), ns.name, lease, 'a');
      await eventually('a to lead', async () => (a.elector.isLeader ? true : undefined));
      const b = candidate(kc, ns.name, lease, 'b');
      const all = [a, b];
      const monitor = exclusionMonitor(() => all);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(b.elector.isLeader).toBe(false);

      const cutAt = Date.now();
      proxy.cut(true);
      await eventually('b to lead', async () => (b.elector.isLeader ? true : undefined), 15_000);
      const aStopped = a.log.find((e) => e.event === 'stop')!.at;
      const bStarted = b.log.find((e) => e.event === 'start')!.at;
      console.log(
        `partitioned leader: stopped after ${aStopped - cutAt} ms, standby leading after ${bStarted - cutAt} ms`,
      );
      expect(aStopped).toBeLessThan(bStarted);
      expect(aStopped - cutAt).toBeLessThanOrEqual(TIMING.renewDeadlineMs + TIMING.retryPeriodMs + 500);
      expect(a.elector.isLeader).toBe(false);

      // Healed, a stays a standby: the Lease is b's.
      proxy.heal();
      await new Promise((r) => setTimeout(r, 2 * TIMING.leaseDurationSeconds * 1000));
      expect(a.elector.isLeader).toBe(false);
      expect(b.elector.isLeader).toBe(true);
      monitor.stop();
      expect(monitor.violations).toBe(0);
      a.controller.abort();
      b.controller.abort();
      await Promise.all([a.running, b.running]);
    } finally {
      await proxy.close();
    }
  });
});
