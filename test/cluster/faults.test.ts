import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreV1Api } from '@kubernetes/client-node';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { createTradeTopics } from '../harness/worker-tables.js';
import { freshNamespace, kubeConfig } from '../integration/operator-support.js';
import {
  allReady,
  CHART,
  FULLNAME,
  helm,
  isReady,
  notReadyWithOneLine,
  onePod,
  P,
  podSide,
  podsApi,
  RELEASE,
  releaseValues,
  SELECT,
  writeValues,
} from './cluster-support.js';

// Issue 16, bad input and faults: a wrong value shows in the pod's readiness and in one clear log
// line, not a crash loop with stack traces. One release carries three wrong values, each seen
// first by another component: an unreachable Kafka (ingest reads only Kafka), a Secret named by
// redis.existingSecret that does not exist (api and worker read REDIS_URL), and a wrong PostgreSQL
// password (the api, once its Secret is there). Creating the Secret starts the waiting containers;
// a `helm upgrade` with the right values makes every pod Ready.

describe('a wrong value on the real node: not Ready, one clear log line, no restarts', () => {
  const topic = freshName('cluster-faults');
  const schema = freshName('cluster_faults').replace(/-/g, '_');
  const redisSecret = `${FULLNAME}-own-redis`;
  const figures: Record<string, number> = {};
  let core: CoreV1Api;
  let ns: { name: string; delete(): Promise<void> };

  beforeAll(async () => {
    core = podsApi();
    const kafka = new Kafka({
      clientId: 'cluster-faults',
      brokers: endpoint('KAFKA_BROKERS').split(','),
      logLevel: logLevel.NOTHING,
    });
    await createTradeTopics(kafka, topic, P);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: `${topic}.gaps` }], waitForLeaders: true });
    await admin.disconnect();
    ns = await freshNamespace(kubeConfig(), 'cluster-faults');
  });

  afterAll(async () => {
    if (ns) {
      await helm('uninstall', RELEASE, '--namespace', ns.name, '--wait', '--timeout', '120s').catch(() => undefined);
      await ns.delete();
    }
    mkdirSync('test-results', { recursive: true });
    writeFileSync(join('test-results', 'cluster-faults.json'), JSON.stringify(figures, null, 2));
  });

  it('an unreachable Kafka, a missing Secret, a wrong password; then corrected', async () => {
    const namespace = ns.name;
    const good = releaseValues({
      topic,
      schema,
      bucket: freshName('cluster-faults'),
      ingest: true,
      api: true,
      createTopics: false,
    });
    const wrongPassword = new URL(podSide(endpoint('DATABASE_URL')));
    wrongPassword.password = 'not-the-password';
    const wrong = {
      ...good,
      // Nothing listens on port 1 of the node: connections are refused.
      kafka: { ...good.kafka, brokers: `${endpoint('TICKMESH_NODE_IP')}:1` },
      postgres: { ...good.postgres, url: wrongPassword.toString() },
      redis: { existingSecret: redisSecret },
      worker: { ...good.worker, replicas: 1 },
      operator: { ...good.operator, replicas: 1 },
    };
    const t0 = Date.now();
    await helm('install', RELEASE, CHART, '--namespace', namespace, '-f', await writeValues('faults-wrong', wrong));

    // The Secret is missing: the kubelet does not start api and worker containers, and says why.
    for (const component of ['api', 'worker']) {
      const pod = await eventually(
        `the ${component} container waiting for its Secret`,
        async () => {
          const p = await onePod(core, namespace, component);
          const waiting = p.status?.containerStatuses?.[0]?.state?.waiting;
          return waiting?.reason === 'CreateContainerConfigError' ? p : undefined;
        },
        120_000,
        500,
      );
      expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.message).toContain(
        `secret "${redisSecret}" not found`,
      );
      expect(isReady(pod)).toBe(false);
      expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    }
    // Kafka is unreachable: ingest runs, is not Ready, says so once, and keeps trying quietly.
    await notReadyWithOneLine(core, namespace, 'ingest', 'kafka', /ECONNREFUSED/);
    figures.wrongValuesShownMs = Date.now() - t0;
    // The operator, which reads neither, is Ready.
    await allReady(core, namespace, SELECT('operator'), 1);

    // The Secret created: the waiting containers start. The api's PostgreSQL refuses the password.
    const t1 = Date.now();
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: redisSecret }, stringData: { REDIS_URL: podSide(endpoint('REDIS_URL')) } },
    });
    // A refused login is tried again 15 s later: the api's check spans a retry.
    await Promise.all([
      notReadyWithOneLine(core, namespace, 'api', 'postgres', /password authentication failed/, 16_000),
      notReadyWithOneLine(core, namespace, 'worker', 'kafka', /ECONNREFUSED/),
    ]);
    figures.secretCreatedToStartedMs = Date.now() - t1;

    // The right values: every pod Ready (a new URL in the chart's Secret rolls the pods that read it).
    const t2 = Date.now();
    const right = { ...wrong, kafka: good.kafka, postgres: good.postgres };
    await helm('upgrade', RELEASE, CHART, '--namespace', namespace, '-f', await writeValues('faults-right', right));
    const pods = await allReady(core, namespace, `app.kubernetes.io/instance=${RELEASE}`, 4);
    figures.correctedToAllReadyMs = Date.now() - t2;
    for (const p of pods) expect(p.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  });
});
