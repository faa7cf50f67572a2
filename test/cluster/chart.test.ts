import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, type CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PlacementDocument, parseDocument } from '../../internal/operator/placement-document.js';
import { PLACEMENT_CONFIGMAP, PLACEMENT_KEY } from '../../internal/operator/publication.js';
import { Proc } from '../e2e/cluster-support.js';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import {
  candleTable,
  caughtUp,
  createTradeTopics,
  realThenSimulatedTrades,
  sendTrades,
} from '../harness/worker-tables.js';
import { freshNamespace, kubeConfig } from '../integration/operator-support.js';
import {
  allReady,
  CHART,
  ctr,
  FULLNAME,
  firstCandleSymbols,
  helm,
  INTERVALS,
  isReady,
  kubectl,
  P,
  type PodLogLine,
  percentile,
  podLog,
  podMemoryMiB,
  podsApi,
  RELEASE,
  releaseValues,
  SELECT,
  topicsJobSucceeded,
  writeValues,
} from './cluster-support.js';

// Issue 16: the chart as its users run it. deploy/helm/tickmesh installed with the project's image
// on a real node (test/infra/node.sh: kubelet, containerd, runc, CNI bridge, kube-proxy, CoreDNS)
// of the harness's control plane; the harness's Kafka, PostgreSQL, NATS and Redis on the host are
// the release's external servers, reached at the node's address. Every pod must become Ready
// through its real probes, the simulator's trades must reach PostgreSQL through workers the
// operator placed, the API must answer through its Service (kube-proxy), `helm test` must pass.
// Then a second release replays real and generated trades while the cluster is scaled, its pods
// deleted and killed, and ends with the candle table of one worker that saw no change at all.

const SIM_TOTAL = 40_000;
const SIM_PRELOADED = 10_000;
const LIVE_CHUNK = 500;
const LIVE_EVERY_MS = 400;

/** Measured figures, written to test-results/cluster-figures.json and docs/DEPLOY.md by hand. */
const figures: Record<string, unknown> = {};

describe('the chart on a real node (kubelet, containerd, kube-proxy, CoreDNS)', () => {
  const simTopic = freshName('cluster-sim');
  const exactTopic = freshName('cluster-exact');
  const simSchema = freshName('cluster_sim').replace(/-/g, '_');
  const exactSchema = freshName('cluster_exact').replace(/-/g, '_');
  const refSchema = freshName('cluster_ref').replace(/-/g, '_');
  let core: CoreV1Api;
  let leases: CoordinationV1Api;
  let db: pg.Client;
  let kafka: Kafka;
  let producer: Producer;
  let nsA: { name: string; delete(): Promise<void> };
  let nsB: { name: string; delete(): Promise<void> };
  const procs: Proc[] = [];

  beforeAll(async () => {
    core = podsApi();
    leases = kubeConfig().makeApiClient(CoordinationV1Api);
    kafka = new Kafka({
      clientId: 'cluster-chart',
      brokers: endpoint('KAFKA_BROKERS').split(','),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: `${exactTopic}.gaps` }], waitForLeaders: true });
    await admin.disconnect();
    // The simulator's release makes its own topics with the chart's Job.
    await createTradeTopics(kafka, exactTopic, P);
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    db = new pg.Client({ connectionString: endpoint('DATABASE_URL') });
    await db.connect();
    nsA = await freshNamespace(kubeConfig(), 'cluster-a');
    nsB = await freshNamespace(kubeConfig(), 'cluster-b');
  });

  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    for (const ns of [nsA, nsB]) {
      if (!ns) continue;
      await helm('uninstall', RELEASE, '--namespace', ns.name, '--wait', '--timeout', '120s').catch(() => undefined);
      await ns.delete();
    }
    await producer?.disconnect();
    for (const s of [simSchema, exactSchema, refSchema]) await db?.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await db?.end();
    mkdirSync('test-results', { recursive: true });
    const record = { at: new Date().toISOString(), loadavg: loadavg(), ...figures };
    writeFileSync(join('test-results', 'cluster-figures.json'), JSON.stringify(record, null, 2));
    console.log(`cluster figures: ${JSON.stringify(record, null, 2)}`);
  });

  it('installs: every pod Ready through its probes; simulated trades reach PostgreSQL; the API answers through its Service', async () => {
    const ns = nsA.name;
    const file = await writeValues(
      'install',
      releaseValues({
        topic: simTopic,
        schema: simSchema,
        bucket: freshName('cluster-a'),
        ingest: true,
        api: true,
        createTopics: true,
      }),
    );
    const t0 = Date.now();
    await helm('install', RELEASE, CHART, '--namespace', ns, '-f', file);
    // The topics Job's pod ends Succeeded, never Ready; its topics exist before ingest is Ready.
    const pods = await allReady(
      core,
      ns,
      `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component!=topics`,
      2 + 2 + 1 + 1,
    );
    figures.installToAllReadyMs = Date.now() - t0;
    await topicsJobSucceeded(core, ns);
    // All on the real node, none on a Node a test plays.
    expect(pods.every((p) => p.spec?.nodeName === endpoint('TICKMESH_NODE_NAME'))).toBe(true);

    // The operator placed every partition on the two workers; they write the simulator's candles.
    const doc = await placement(ns, 2);
    expect(doc.partitions.every((p) => p.owner !== null)).toBe(true);
    const [symbol] = await firstCandleSymbols(
      db,
      simSchema,
      'closed 1m candles of the simulated markets in PostgreSQL',
    );

    // The API through its ClusterIP Service, from the host: kube-proxy's rules carry it to a pod.
    const svc = await core.readNamespacedService({ name: `${FULLNAME}-api`, namespace: ns });
    const base = `http://${svc.spec?.clusterIP}:8080`;
    const exchange = (await db.query(`SELECT exchange FROM "${simSchema}".candles LIMIT 1`)).rows[0].exchange as string;
    const res = await fetch(`${base}/api/v1/candles?exchange=${exchange}&symbol=${symbol}&interval=1m`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { candles?: unknown[] };
    expect(JSON.stringify(body)).toContain(symbol);
    const dashboard = await fetch(`${base}/`);
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toMatch(/<html/i);

    // The chart's own test pod.
    const t1 = Date.now();
    const out = await helm('test', RELEASE, '--namespace', ns, '--timeout', '180s');
    expect(out).toContain('Succeeded');
    figures.helmTestMs = Date.now() - t1;
    figures.memoryMiBAfterInstall = await podMemoryMiB(ns);
    // Its pods would take the node's CPU from the next release.
    await helm('uninstall', RELEASE, '--namespace', ns, '--wait', '--timeout', '120s');
  });

  it('keeps the candle table exact while it is scaled 2 -> 4 -> 1 and its pods are deleted and killed', async () => {
    const ns = nsB.name;
    const { real, sim } = await realThenSimulatedTrades({ count: SIM_TOTAL, prefix: 'C', seed: 11 });
    await sendTrades(producer, exactTopic, [...real, ...sim.slice(0, SIM_PRELOADED)]);
    const v = releaseValues({
      topic: exactTopic,
      schema: exactSchema,
      bucket: freshName('cluster-b'),
      ingest: false,
      api: false,
      createTopics: false,
    });
    const file = await writeValues('exact', v);
    await helm('install', RELEASE, CHART, '--namespace', ns, '-f', file);
    await allReady(core, ns, SELECT('worker'), 2);
    await allReady(core, ns, SELECT('operator'), 2);
    await placement(ns, 2);

    // More trades while the cluster changes.
    const live = sim.slice(SIM_PRELOADED);
    const producing = true;
    const production = (async () => {
      for (let i = 0; i < live.length && producing; i += LIVE_CHUNK) {
        await sendTrades(producer, exactTopic, live.slice(i, i + LIVE_CHUNK));
        await new Promise((r) => setTimeout(r, LIVE_EVERY_MS));
      }
    })();

    // 2 -> 4 through the chart.
    const before = await placement(ns, 2);
    const t0 = Date.now();
    await helm('upgrade', RELEASE, CHART, '--namespace', ns, '-f', file, '--set', 'worker.replicas=4');
    const four = await placement(ns, 4);
    const moved = four.partitions.filter((p) => p.epoch !== before.partitions[p.partition]!.epoch);
    const acquired = await acquisitions(
      ns,
      four,
      moved.map((p) => p.partition),
    );
    figures.scale2to4ToRunningMs = Math.max(...acquired.map((l) => l.time)) - t0;
    const pauses = acquired.map((l) => l.pauseMs).filter((n): n is number => typeof n === 'number');
    figures.movedPartitions = moved.length;
    figures.pausePerMovedPartitionMs = {
      p50: percentile(pauses, 0.5),
      p99: percentile(pauses, 0.99),
      max: Math.max(...pauses),
    };
    figures.handoffTimelines = await handoffTimelines(ns, four, acquired);
    await collectHandoffs(ns);
    figures.memoryMiBWithFourWorkers = await podMemoryMiB(ns);

    // A worker pod deleted: the Deployment replaces it, the operator moves its partitions.
    const workers = await allReady(core, ns, SELECT('worker'), 4);
    await core.deleteNamespacedPod({ name: workers[0]!.metadata!.name!, namespace: ns });
    await allReady(core, ns, SELECT('worker'), 4);
    await placement(ns, 4);
    await collectHandoffs(ns);

    // The operator holding the Lease deleted: the other one takes over.
    const lease = () => leases.readNamespacedLease({ name: 'tickmesh-operator', namespace: ns });
    const leader = (await lease()).spec?.holderIdentity ?? '';
    expect(leader).not.toBe('');
    const t1 = Date.now();
    await core.deleteNamespacedPod({ name: leader, namespace: ns });
    const next = await eventually(
      'another operator to hold the Lease',
      async () => {
        const h = (await lease()).spec?.holderIdentity;
        return h && h !== leader ? h : undefined;
      },
      60_000,
      100,
    );
    figures.operatorFailoverMs = Date.now() - t1;
    expect(next).not.toBe(leader);

    // A worker container killed with SIGKILL (no drain): its container restarts in the same pod.
    const victim = (await allReady(core, ns, SELECT('worker'), 4))[1]!;
    const restarts = victim.status?.containerStatuses?.[0]?.restartCount ?? 0;
    const containerId = (victim.status?.containerStatuses?.[0]?.containerID ?? '').replace(/^containerd:\/\//, '');
    expect(containerId).not.toBe('');
    await ctr('tasks', 'kill', '--signal', 'SIGKILL', containerId);
    await eventually(
      `${victim.metadata?.name} restarted and Ready`,
      async () => {
        const p = await core.readNamespacedPod({ name: victim.metadata!.name!, namespace: ns });
        return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) > restarts && isReady(p) ? p : undefined;
      },
      120_000,
      250,
    );
    await placement(ns, 4);
    await collectHandoffs(ns);

    // 4 -> 1 with kubectl.
    await kubectl('scale', '-n', ns, `deployment/${FULLNAME}-worker`, '--replicas=1');
    await allReady(core, ns, SELECT('worker'), 1);
    await placement(ns, 1);
    await collectHandoffs(ns);
    const all = [...handoffs.values()];
    figures.pauseEveryHandoffMs = {
      count: all.length,
      p50: percentile(all, 0.5),
      p99: percentile(all, 0.99),
      max: Math.max(...all),
    };
    await production;

    // The end: the cluster caught up, and a reference worker that saw no change at all.
    const admin = kafka.admin();
    await admin.connect();
    const ends = new Map((await admin.fetchTopicOffsets(exactTopic)).map((o) => [o.partition, BigInt(o.high)]));
    await admin.disconnect();
    const reference = new Proc(
      'reference',
      [
        'worker',
        ...['--topic', exactTopic, '--late-topic', `${exactTopic}.late`, '--rejected-topic', `${exactTopic}.rejected`],
        ...['--schema', refSchema, '--intervals', INTERVALS, '--clock-watermark', 'false'],
        ...['--checkpoint-interval-ms', '200', '--max-pending-rows', '2000', '--index-actors', 'false', '--port', '0'],
      ],
      {
        ...process.env,
        KAFKA_BROKERS: endpoint('KAFKA_BROKERS'),
        NATS_URL: endpoint('NATS_URL'),
        REDIS_URL: endpoint('REDIS_URL'),
        DATABASE_URL: endpoint('DATABASE_URL'),
      },
    );
    procs.push(reference);
    const atTheEnd = (schema: string) =>
      eventually(
        `${schema} to reach the end of every partition`,
        () => caughtUp(db, schema, exactTopic, ends),
        300_000,
        500,
      );
    await Promise.all([atTheEnd(exactSchema), atTheEnd(refSchema)]);
    reference.kill('SIGTERM');
    expect(await reference.exited).toEqual({ code: 0, signal: null });
    const expected = await candleTable(db, refSchema);
    expect(expected.length).toBeGreaterThan(400);
    expect(await candleTable(db, exactSchema)).toEqual(expected);
    figures.candleRows = expected.length;
  });

  /** Waits until the placement ConfigMap holds `members` Ready workers and every partition has an owner. */
  async function placement(namespace: string, members: number, ms = 180_000): Promise<PlacementDocument> {
    return eventually(
      `the placement on ${members} workers in ${namespace}`,
      async () => {
        const ready = (await core.listNamespacedPod({ namespace, labelSelector: SELECT('worker') })).items
          .filter(isReady)
          .map((p: V1Pod) => p.metadata!.name!)
          .sort();
        const cm = await core.readNamespacedConfigMap({ name: PLACEMENT_CONFIGMAP, namespace });
        const doc = parseDocument(cm.data?.[PLACEMENT_KEY] ?? '');
        const ok =
          ready.length === members &&
          doc.members.slice().sort().join() === ready.join() &&
          doc.partitions.every((p) => p.owner !== null && ready.includes(p.owner));
        if (!ok) throw new Error(`placement v${doc.version} on ${doc.members.join(' ')}; ready: ${ready.join(' ')}`);
        return doc;
      },
      ms,
      250,
    );
  }

  /** The pause of every handoff the workers logged (a released partition acquired), by pod, partition and epoch. */
  const handoffs = new Map<string, number>();
  async function collectHandoffs(namespace: string): Promise<void> {
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: SELECT('worker') })).items;
    for (const pod of pods) {
      const name = pod.metadata!.name!;
      for (const previous of [false, true]) {
        for (const l of await podLog(namespace, name, previous)) {
          if (l.msg === 'partition acquired' && typeof l.pauseMs === 'number') {
            handoffs.set(`${name}/${l.partition}/${l.epoch}`, l.pauseMs);
          }
        }
      }
    }
  }

  /**
   * Where each moved partition's pause went, from the logs of its two owners, in ms after the old
   * owner applied the placement that moved it: `seen` (each owner applied the placement), `released`
   * (the old owner's final checkpoint committed and announced), `claimStart` (the new owner heard
   * the release and began its claim), `acquired`; with the parts each owner timed itself.
   */
  async function handoffTimelines(namespace: string, doc: PlacementDocument, acquired: readonly PodLogLine[]) {
    const published = Date.parse(doc.publishedAt);
    const out = [];
    for (const a of acquired) {
      const partition = a.partition as number;
      const oldOwner = a.previousOwner as string | null;
      const newLines = await podLog(namespace, doc.partitions[partition]!.owner!);
      const oldLines = oldOwner ? await podLog(namespace, oldOwner) : [];
      const released = oldLines.find(
        (l) => l.msg === 'partition released' && l.partition === partition && l.epoch === a.epoch,
      );
      const stopped = oldLines
        .filter((l) => l.msg === 'partition stopped' && l.partition === partition && l.time <= (released?.time ?? 0))
        .at(-1);
      const opened = newLines.filter((l) => l.msg === 'partition opened' && l.partition === partition).at(-1);
      const seenBy = (lines: readonly PodLogLine[]) =>
        lines.find(
          (l) =>
            l.msg === 'placement changed' &&
            l.time <= a.time &&
            [...((l.acquire as number[]) ?? []), ...((l.release as number[]) ?? [])].includes(partition),
        );
      const oldSeen = seenBy(oldLines.filter((l) => l.time <= (released?.time ?? a.time)).reverse());
      const newSeen = seenBy([...newLines].reverse());
      const t0 = released ? released.time - (released.releaseMs as number) : (oldSeen?.time ?? a.time);
      const at = (t: number | undefined) => (t === undefined ? undefined : t - t0);
      out.push({
        partition,
        oldOwner,
        newOwner: doc.partitions[partition]!.owner,
        publishedToOldSeenMs: oldSeen ? oldSeen.time - published : undefined,
        oldSeen: at(oldSeen?.time),
        newSeen: at(newSeen?.time),
        released: at(released?.time),
        claimStart: at(a.time - (a.claimMs as number)),
        acquired: at(a.time),
        pauseMs: a.pauseMs,
        release: stopped
          ? { inflightMs: stopped.inflightMs, settleMs: stopped.settleMs, commitMs: stopped.commitMs }
          : undefined,
        claim: opened
          ? { claimTxMs: opened.claimTxMs, restoreMs: opened.restoreMs, markets: opened.markets }
          : undefined,
        waitedMs: a.waitedMs,
      });
    }
    return out;
  }

  /** The `partition acquired` lines of `partitions` at their owner and epoch in `doc`, once all are logged. */
  async function acquisitions(namespace: string, doc: PlacementDocument, partitions: readonly number[]) {
    return eventually(
      `partitions ${partitions.join(',')} running at their new owners`,
      async () => {
        const found = [];
        for (const partition of partitions) {
          const e = doc.partitions[partition]!;
          const lines = await podLog(namespace, e.owner!);
          const line = lines.find(
            (l) => l.msg === 'partition acquired' && l.partition === partition && l.epoch === e.epoch,
          );
          if (!line) return undefined;
          found.push(line);
        }
        return found;
      },
      120_000,
      500,
    );
  }
});
