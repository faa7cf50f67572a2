import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Bus } from '../../internal/bus/bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { watchPlacement } from '../../internal/operator/kv-placement.js';
import type { PlacementDocument } from '../../internal/operator/placement-document.js';
import { parseDocument } from '../../internal/operator/placement-document.js';
import { PLACEMENT_CONFIGMAP, PLACEMENT_KEY } from '../../internal/operator/publication.js';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { createWorkerPod, freshNamespace, kubeConfig, setPodReady } from './operator-support.js';

// Two real operator processes (cmd/operator/main.ts) against the real kube-apiserver and NATS: one
// leads and publishes (ConfigMap, then the KV bucket workers watch); SIGKILL of the leader hands over after the lease expires, SIGTERM at once (release);
// the new leader continues the placement's versions and epochs.

const LEASE = { seconds: 2, renewDeadlineMs: 1_500, retryPeriodMs: 250 };

interface Operator {
  readonly child: ChildProcess;
  /** Resolves once the process logged that it started (module loading under tsx can take seconds). */
  readonly started: Promise<void>;
}

/** Every operator's log lines, printed only when the test fails. */
const logs: string[] = [];
/** The placement's KV bucket on the shared NATS server, fresh for this file. */
const bucket = freshName('placement');

function startOperator(namespace: string, identity: string): Operator {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'cmd/operator/main.ts',
      `--kubeconfig=${endpoint('KUBECONFIG')}`,
      `--namespace=${namespace}`,
      '--partitions=8',
      `--identity=${identity}`,
      `--lease-duration=${LEASE.seconds}`,
      `--renew-deadline=${LEASE.renewDeadlineMs}`,
      `--retry-period=${LEASE.retryPeriodMs}`,
      '--debounce=50',
      '--metrics-port=0',
      '--log-level=info',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NATS_URL: endpoint('NATS_URL'), TICKMESH_PLACEMENT_BUCKET: bucket },
    },
  );
  const started = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`operator ${identity} exited (${code}) before it started`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      if (line.includes('"msg":"operator started"')) resolve();
    });
  });
  createInterface({ input: child.stderr! }).on('line', (line) => logs.push(`${identity} stderr: ${line}`));
  started.catch(() => undefined);
  return { child, started };
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.once('exit', (code) => r(code)));
}

describe('operator failover (two operator processes, real kube-apiserver)', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let leases: CoordinationV1Api;
  let ns: { name: string; delete(): Promise<void> };
  let bus: Bus;
  const watching = new AbortController();
  /** What a worker sees: every document the KV watch delivered. */
  const seen: PlacementDocument[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    kc = kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    leases = kc.makeApiClient(CoordinationV1Api);
    ns = await freshNamespace(kc, 'op-failover');
    bus = await createNatsBus({ servers: endpoint('NATS_URL') });
    const kv = await bus.kv(bucket);
    void (async () => {
      for await (const d of watchPlacement(kv, watching.signal, silentLogger())) seen.push(d);
    })();
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    watching.abort();
    await bus?.close();
    await ns?.delete();
  });

  it('the standby takes over after SIGKILL (lease expiry) and after SIGTERM (release)', async () => {
    onTestFailed(() => console.log(`operator logs:\n${logs.join('\n')}`));
    for (const name of ['w-0', 'w-1', 'w-2', 'w-3']) {
      await createWorkerPod(core, ns.name, name);
      await setPodReady(core, ns.name, name, true);
    }
    const ops = new Map<string, ChildProcess>();
    const starting: Promise<void>[] = [];
    for (const id of ['op-a', 'op-b']) {
      const op = startOperator(ns.name, id);
      children.push(op.child);
      ops.set(id, op.child);
      starting.push(op.started);
    }
    // Both running and the standby past its first look at the Lease: what is measured below is the
    // failover, not a process start.
    await Promise.all(starting);
    await new Promise((r) => setTimeout(r, 1_000));
    const holder = async () =>
      (await leases.readNamespacedLease({ name: 'tickmesh-operator', namespace: ns.name })).spec?.holderIdentity ?? '';
    const doc = async () =>
      parseDocument(
        (await core.readNamespacedConfigMap({ name: PLACEMENT_CONFIGMAP, namespace: ns.name })).data?.[PLACEMENT_KEY] ??
          '',
      );

    const first = await eventually(
      'a first placement',
      async () => {
        const d = await doc();
        return d.members.length === 4 ? d : undefined;
      },
      60_000,
    );
    const leader = await holder();
    expect(leader).toBe(first.publishedBy);
    const standby = leader === 'op-a' ? 'op-b' : 'op-a';

    // SIGKILL the leader and lose a worker at the same moment: the standby must take the Lease and
    // answer the membership change.
    const killedAt = Date.now();
    ops.get(leader)!.kill('SIGKILL');
    await core.deleteNamespacedPod({ name: 'w-3', namespace: ns.name, gracePeriodSeconds: 0 });
    await eventually(
      'the standby to hold the Lease',
      async () => ((await holder()) === standby ? true : undefined),
      15_000,
      20,
    );
    const leaseTakenMs = Date.now() - killedAt;
    const second = await eventually(
      'the standby to publish',
      async () => {
        const d = await doc();
        return d.publishedBy === standby && !d.members.includes('w-3') ? d : undefined;
      },
      15_000,
      20,
    );
    const publishedMs = Date.now() - killedAt;
    console.log(`failover after SIGKILL: lease taken ${leaseTakenMs} ms, placement published ${publishedMs} ms`);
    expect(leaseTakenMs).toBeLessThan(LEASE.seconds * 1000 + 3 * LEASE.retryPeriodMs + 1_500);
    expect(second.version).toBeGreaterThan(first.version);
    expect(second.epoch).toBeGreaterThan(first.epoch);
    for (const p of second.partitions) {
      const was = first.partitions[p.partition]!;
      if (was.owner !== 'w-3') expect(p).toEqual(was);
      else expect(p.epoch).toBeGreaterThan(first.epoch);
    }

    // A new standby joins; SIGTERM on the leader releases the Lease for it.
    const next = startOperator(ns.name, 'op-c');
    children.push(next.child);
    await next.started;
    // op-c has seen the Lease held (its first attempt is immediate) before the leader goes.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await holder()).toBe(standby);
    const termAt = Date.now();
    ops.get(standby)!.kill('SIGTERM');
    await eventually(
      'op-c to hold the Lease',
      async () => ((await holder()) === 'op-c' ? true : undefined),
      15_000,
      20,
    );
    const handoverMs = Date.now() - termAt;
    expect(await exited(ops.get(standby)!)).toBe(0);
    console.log(`failover after SIGTERM (release): lease taken ${handoverMs} ms`);
    expect(handoverMs).toBeLessThan(LEASE.seconds * 1000);

    await core.deleteNamespacedPod({ name: 'w-2', namespace: ns.name, gracePeriodSeconds: 0 });
    const third = await eventually(
      'op-c to publish',
      async () => {
        const d = await doc();
        return d.publishedBy === 'op-c' && !d.members.includes('w-2') ? d : undefined;
      },
      15_000,
      20,
    );
    expect(third.epoch).toBeGreaterThan(second.epoch);

    // Workers watching the KV saw the same documents, newest last, versions only growing.
    await eventually('the KV watch to see the last placement', async () =>
      seen.at(-1)?.version === third.version ? true : undefined,
    );
    expect(seen.at(-1)).toEqual(third);
    expect(seen.some((d) => d.version === second.version && d.publishedBy === standby)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.version).toBeGreaterThan(seen[i - 1]!.version);
    next.child.kill('SIGTERM');
    expect(await exited(next.child)).toBe(0);
  });
});
