import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  loadAllYaml,
  loadYaml,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  type V1Container,
  type V1Deployment,
  type V1EnvVar,
  type V1PodSpec,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOperator } from '../../cmd/operator/run.js';
import { API_FLAG_NAMES, parseApiOptions } from '../../internal/config/api.js';
import { parseIngestConfig } from '../../internal/config/ingest.js';
import { parseOperatorConfig } from '../../internal/config/operator.js';
import { parseTopicsOptions } from '../../internal/config/topics.js';
import { parseWorkerOptions, WORKER_FLAG_NAMES } from '../../internal/config/worker.js';
import { LIVE_VENUES } from '../../internal/ingest/venues/registry.js';
import { parseDocument } from '../../internal/operator/placement-document.js';
import { PLACEMENT_CONFIGMAP, PLACEMENT_KEY } from '../../internal/operator/publication.js';
import { DEFAULT_RETENTION } from '../../internal/sink/store.js';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { helmIn } from '../harness/helm.js';
import { setPodReady } from './operator-support.js';

// deploy/helm/tickmesh installed with the helm built by test/infra/kube.sh into fresh namespaces
// of the real kube-apiserver. No kubelet runs, so pods stay Pending; the test checks the objects
// against the values, parses the rendered command lines with the commands' own parsers, and runs
// the real operator in this process under the chart's ServiceAccount token: RBAC on, the Role the
// chart grants must be enough for it to lead and publish, and must refuse everything else.

const CHART = fileURLToPath(new URL('../../deploy/helm/tickmesh', import.meta.url));
const DASHBOARDS = fileURLToPath(new URL('../../dashboards/grafana', import.meta.url));

let home: string;

const helm = helmIn(() => home);

/** helm's error output for a command that must fail. */
async function helmFails(...args: string[]): Promise<string> {
  try {
    await helm(...args);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`helm ${args.join(' ')} succeeded`);
}

async function valuesFile(name: string, values: unknown): Promise<string> {
  const path = join(home, `${name}.json`);
  await writeFile(path, JSON.stringify(values));
  return path;
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

function container(d: V1Deployment): V1Container {
  const c = d.spec?.template.spec?.containers[0];
  if (!c) throw new Error(`${d.metadata?.name} has no container`);
  return c;
}

function envOf(c: V1Container, name: string): V1EnvVar | undefined {
  return c.env?.find((e) => e.name === name);
}

/**
 * The environment a pod of `d` would see, with field references resolved for `podName` and
 * Secret references from `secrets` (name -> key -> value).
 */
function resolvedEnv(
  c: V1Container,
  namespace: string,
  podName: string,
  secrets: Readonly<Record<string, Readonly<Record<string, string>>>> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const e of c.env ?? []) {
    const field = e.valueFrom?.fieldRef?.fieldPath;
    const secret = e.valueFrom?.secretKeyRef;
    if (field === 'metadata.name') env[e.name] = podName;
    else if (field === 'metadata.namespace') env[e.name] = namespace;
    else if (secret) env[e.name] = secrets[secret.name ?? '']?.[secret.key];
    else if (e.value !== undefined) env[e.name] = e.value;
  }
  return env;
}

/** `--name=value` arguments as the record parseWorkerOptions takes. */
function flagRecord(args: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    args.map((a) => {
      const m = /^--([^=]+)=(.*)$/.exec(a);
      if (!m) throw new Error(`not a --name=value argument: ${a}`);
      return [m[1], m[2]];
    }),
  );
}

/** A label selector `k=v,k=v` matches `labels`. */
function matches(selector: string, labels: Record<string, string> | undefined): boolean {
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return k !== undefined && labels?.[k] === v;
  });
}

/** What every tickmesh Deployment must carry whatever the values. */
function expectHardened(d: V1Deployment, probePort: string, port: number): void {
  const spec = d.spec?.template.spec as V1PodSpec;
  const name = d.metadata?.name;
  expect(spec.securityContext, name).toMatchObject({
    runAsNonRoot: true,
    runAsUser: 10001,
    seccompProfile: { type: 'RuntimeDefault' },
  });
  const c = container(d);
  expect(c.securityContext, name).toEqual({
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  });
  expect(c.ports?.find((p) => p.name === probePort)?.containerPort, name).toBe(port);
  expect(c.readinessProbe?.httpGet, name).toMatchObject({ path: '/readyz', port: probePort });
  expect(c.livenessProbe?.httpGet, name).toMatchObject({ path: '/healthz', port: probePort });
  expect(c.startupProbe?.httpGet, name).toMatchObject({ path: '/healthz', port: probePort });
  expect(
    c.volumeMounts?.find((v) => v.mountPath === '/tmp'),
    name,
  ).toBeDefined();
  expect(c.resources?.requests?.cpu, name).toBeDefined();
  expect(c.resources?.limits?.memory, name).toBeDefined();
}

describe('the tickmesh chart on the real kube-apiserver', () => {
  const kc = new KubeConfig();
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const namespaces: string[] = [];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'tickmesh-chart-'));
    kc.loadFromFile(endpoint('KUBECONFIG'));
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
  });

  afterAll(async () => {
    for (const namespace of namespaces) {
      await core?.deleteNamespace({ name: namespace }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('lints, and refuses values that would break the contracts', async () => {
    const trial = ['--set', 'singleNode.enabled=true'];
    const lint = await helm('lint', '--strict', CHART, ...trial, '--set', 'grafanaDashboards.enabled=true');
    expect(lint).toContain('0 chart(s) failed');
    // The values deploy/kind/up.sh installs with (it sets the image tag itself).
    const kindValues = fileURLToPath(new URL('../../deploy/kind/values.yaml', import.meta.url));
    expect(await helm('lint', '--strict', CHART, '-f', kindValues, '--set', 'image.tag=dev-0123456789ab')).toContain(
      '0 chart(s) failed',
    );
    const kind = await helm('template', 'tickmesh', CHART, '-f', kindValues, '--set', 'image.tag=dev-0123456789ab');
    expect(kind).toContain('image: localhost/tickmesh:dev-0123456789ab');
    expect(kind).toContain('imagePullPolicy: Never');
    expect(kind).toContain('name: tickmesh-kafka');

    expect(await helmFails('template', 't', CHART)).toContain('kafka.brokers is required');
    expect(await helmFails('template', 't', CHART, ...trial, '--set', 'worker.placement=static')).toContain(
      'worker.placement=static runs every partition on every worker',
    );
    expect(
      await helmFails('template', 't', CHART, ...trial, '--set', 'worker.terminationGracePeriodSeconds=25'),
    ).toContain("must exceed the worker's drain (drainTimeoutMs, plus handoffWaitMs under the operator: 30 s)");
    expect(await helmFails('template', 't', CHART, ...trial, '--set', 'operator.enabled=false')).toContain(
      'worker.placement=operator needs operator.enabled=true',
    );
    // values.schema.json: a misspelt value is an error, not silently ignored.
    expect(await helmFails('template', 't', CHART, ...trial, '--set', 'worker.replica=3')).toContain(
      "additional properties 'replica' not allowed",
    );
    expect(await helmFails('template', 't', CHART, ...trial, '--set', 'ingest.venues[0].venue=nasdaq')).toContain(
      '/ingest/venues/0/venue',
    );
    // Cross-field checks.
    const refused = (...set: string[]) => helmFails('template', 't', CHART, ...trial, ...set);
    const autoscale = ['--set', 'operator.autoscale.enabled=true'];
    expect(
      await refused(...autoscale, '--set', 'operator.autoscale.min=5', '--set', 'operator.autoscale.max=4'),
    ).toContain('operator.autoscale.min (5) must not exceed operator.autoscale.max (4)');
    expect(await refused(...autoscale, '--set', 'operator.autoscale.max=13')).toContain(
      'operator.autoscale.max (13) must not exceed kafka.partitions (12)',
    );
    expect(await refused('--set', 'ingest.replicas=2')).toContain(
      'every ingest replica streams every venue of ingest.venues',
    );
    const twice = '[{"venue":"sim","symbols":["BTC-USD"]},{"venue":"sim","symbols":["BTC-USD"]}]';
    expect(await refused('--set-json', `ingest.venues=${twice}`)).toContain('ingest.venues lists sim:BTC-USD twice');
    type Doc = { kind: string; metadata: { name: string } };
    const docs = async (...set: string[]) => loadAllYaml(await helm('template', 't', CHART, ...trial, ...set)) as Doc[];
    const named = (objs: Doc[], kind: string) => objs.filter((o) => o.kind === kind).map((o) => o.metadata.name);
    // A single operator gets no budget (minAvailable 1 of 1 would block every drain); two do.
    expect(named(await docs('--set', 'operator.replicas=1'), 'PodDisruptionBudget')).not.toContain(
      't-tickmesh-operator',
    );
    expect(named(await docs(), 'PodDisruptionBudget')).toContain('t-tickmesh-operator');
    // The ServiceMonitor only where its API exists.
    expect(named(await docs('--set', 'serviceMonitor.enabled=true'), 'ServiceMonitor')).toEqual([]);
    expect(
      named(
        await docs('--set', 'serviceMonitor.enabled=true', '--api-versions', 'monitoring.coreos.com/v1'),
        'ServiceMonitor',
      ),
    ).toEqual(['t-tickmesh']);
    // The PrometheusRule likewise, holding the plain rule file's groups as they are.
    expect(named(await docs('--set', 'prometheusRule.enabled=true'), 'PrometheusRule')).toEqual([]);
    const rule = (
      await docs('--set', 'prometheusRule.enabled=true', '--api-versions', 'monitoring.coreos.com/v1/PrometheusRule')
    ).find((o) => o.kind === 'PrometheusRule') as (Doc & { spec: unknown }) | undefined;
    expect(rule?.metadata.name).toBe('t-tickmesh');
    expect(rule?.spec).toEqual(loadYaml(readFileSync(join(CHART, 'files/alerts.yaml'), 'utf8')));
    // API keys from a Secret: mounted read-only, and the file the API's flags name is that mount's.
    const keyed = (await docs('--set', 'api.auth.existingSecret=keys', '--set', 'api.auth.key=hashes')).find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 't-tickmesh-api',
    ) as unknown as V1Deployment;
    const keysFile = parseApiOptions(flagRecord(container(keyed).args?.slice(1) ?? [])).apiKeysFile ?? '';
    const mount = container(keyed).volumeMounts?.find((m) => keysFile.startsWith(`${m.mountPath}/`));
    expect([mount?.name, mount?.readOnly]).toEqual(['api-keys', true]);
    expect(keyed.spec?.template.spec?.volumes?.find((v) => v.name === 'api-keys')?.secret).toEqual({
      secretName: 'keys',
      items: [{ key: 'hashes', path: keysFile.slice(`${mount?.mountPath}/`.length) }],
    });
    const open = (await docs()).find((o) => o.kind === 'Deployment' && o.metadata.name === 't-tickmesh-api');
    expect(JSON.stringify(open)).not.toMatch(/api-keys/);
    // The topics Job renders under the same name from the same values (GitOps tools render with
    // `helm template`, where every render is revision 1), and under a new one when what it runs
    // changes: a Job's pod template is immutable.
    const jobs = async (...set: string[]) => named(await docs(...set), 'Job');
    const [job] = await jobs();
    expect(job).toMatch(/^t-tickmesh-topics-[0-9a-f]{10}$/);
    expect(await jobs('--set', 'worker.replicas=5')).toEqual([job]);
    expect(await jobs('--set', 'image.tag=0.2.0')).not.toEqual([job]);
    expect(await jobs('--set', 'kafka.partitions=24')).not.toEqual([job]);
    // Names and the usual knobs.
    const renamed = await docs(
      '--set',
      'fullnameOverride=mesh',
      '--set',
      'serviceAccount.create=false',
      '--set',
      'serviceAccount.name=existing-sa',
    );
    expect(named(renamed, 'Deployment').sort()).toEqual(['mesh-api', 'mesh-ingest', 'mesh-operator', 'mesh-worker']);
    expect(named(renamed, 'ServiceAccount')).toEqual([]);
    const knobs = (await docs(
      '--set',
      `image.digest=sha256:${'a'.repeat(64)}`,
      '--set',
      'priorityClassName=tickmesh-high',
      '--set',
      'podLabels.team=markets',
      '--set',
      'podAnnotations.example\\.com/owner=markets',
      '--set-json',
      'envFrom=[{"configMapRef":{"name":"extra"}}]',
      '--set-json',
      'extraVolumes=[{"name":"certs","secret":{"secretName":"certs"}}]',
      '--set-json',
      'extraVolumeMounts=[{"name":"certs","mountPath":"/etc/certs","readOnly":true}]',
    )) as unknown as V1Deployment[];
    for (const d of knobs.filter((o) => o.kind === 'Deployment')) {
      const spec = d.spec?.template.spec as V1PodSpec;
      const c = container(d);
      expect(c.image, d.metadata?.name).toBe(`tickmesh@sha256:${'a'.repeat(64)}`);
      expect(spec.priorityClassName).toBe('tickmesh-high');
      expect(d.spec?.template.metadata?.labels?.team).toBe('markets');
      expect(d.spec?.template.metadata?.annotations?.['example.com/owner']).toBe('markets');
      expect(c.envFrom).toEqual([{ configMapRef: { name: 'extra' } }]);
      expect(spec.volumes?.map((v) => v.name)).toContain('certs');
      expect(c.volumeMounts?.find((m) => m.name === 'certs')?.mountPath).toBe('/etc/certs');
    }
    // One replica with static placement is the supported single-worker setup.
    const single = await helm(
      'template',
      't',
      CHART,
      ...trial,
      '--set',
      'worker.placement=static',
      '--set',
      'worker.replicas=1',
    );
    expect(single).toContain('"--partitions=all"');
  });

  it('with operator.autoscale.enabled, the operator scales the worker Deployment, and its Role allows that alone', async () => {
    const trial = ['--set', 'singleNode.enabled=true'];
    type Obj = { kind: string; metadata: { name: string }; rules?: unknown[]; stringData?: Record<string, string> };
    const render = async (...set: string[]) =>
      loadAllYaml(await helm('template', 't', CHART, ...trial, ...set)) as Obj[];
    const on = await render(
      '--set',
      'operator.autoscale.enabled=true',
      '--set',
      'operator.autoscale.max=5',
      '--set',
      'operator.autoscale.targetRate=800',
    );
    const scaleRule = {
      apiGroups: ['apps'],
      resources: ['deployments/scale'],
      resourceNames: ['t-tickmesh-worker'],
      verbs: ['get', 'update'],
    };
    const roleOf = (objs: Obj[]) => objs.find((o) => o.kind === 'Role' && o.metadata.name === 't-tickmesh-operator');
    expect(roleOf(on)?.rules).toContainEqual(scaleRule);
    const operatorOf = (objs: Obj[]) =>
      objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 't-tickmesh-operator') as unknown as V1Deployment;
    const oc = container(operatorOf(on));
    const secrets = Object.fromEntries(
      on.filter((o) => o.kind === 'Secret').map((o) => [o.metadata.name, o.stringData ?? {}]),
    );
    const config = parseOperatorConfig(oc.args?.slice(1) ?? [], resolvedEnv(oc, 'ns', 'op-pod', secrets));
    expect(config).toMatchObject({
      autoscaleDeployment: 't-tickmesh-worker',
      autoscaleMin: 1,
      autoscaleMax: 5,
      autoscaleLag: 10_000,
      autoscaleTargetRate: 800,
    });
    // Off by default: no flag, no permission.
    const off = await render();
    expect(roleOf(off)?.rules).not.toContainEqual(scaleRule);
    const offConfig = parseOperatorConfig(
      container(operatorOf(off)).args?.slice(1) ?? [],
      resolvedEnv(container(operatorOf(off)), 'ns', 'op-pod'),
    );
    expect(offConfig.autoscaleMax).toBe(0);
    expect(await helmFails('template', 't', CHART, ...trial, '--set', 'operator.autoscale.min=0')).toContain(
      '/operator/autoscale/min',
    );
  });

  it('points every tickmesh container at the collector, with the sampler the values name', async () => {
    type Container = { name: string; env?: Array<{ name: string; value?: string }> };
    type Obj = { kind: string; spec?: { template?: { spec?: { containers?: Container[] } } } };
    const objs = loadAllYaml(
      await helm(
        'template',
        't',
        CHART,
        ...['--set', 'singleNode.enabled=true', '--set', 'tracing.otlpEndpoint=http://otel.invalid:4318'],
        ...['--set', 'tracing.sampler=parentbased_traceidratio', '--set-string', 'tracing.samplerArg=0.01'],
      ),
    ) as Obj[];
    const containers = objs
      .flatMap((o) => o.spec?.template?.spec?.containers ?? [])
      .filter((c) => c.env?.some((e) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT'));
    const value = (c: Container, name: string) => c.env?.find((e) => e.name === name)?.value;
    // ingest, worker, operator, api and the topics Job.
    expect(containers.length).toBeGreaterThanOrEqual(5);
    for (const c of containers) {
      expect([value(c, 'OTEL_TRACES_SAMPLER'), value(c, 'OTEL_TRACES_SAMPLER_ARG')]).toEqual([
        'parentbased_traceidratio',
        '0.01',
      ]);
    }
    expect(await helmFails('template', 't', CHART, '--set', 'tracing.sampler=sometimes')).toContain('/tracing/sampler');
  });

  it("offers exactly the ingest command's venues in the values schema", () => {
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));
    const venues = schema.properties.ingest.properties.venues.items.properties.venue.enum as string[];
    expect([...venues].sort()).toEqual([...LIVE_VENUES, 'sim'].sort());
  });

  it('installs with external servers: every object is what the values say; the operator leads under its Role', async () => {
    const namespace = freshName('chart');
    const release = freshName('tm');
    namespaces.push(namespace);
    const fullname = `${release}-tickmesh`;
    const databaseUrl = 'postgres://tickmesh:s3cret@pg.db.invalid:5432/tickmesh';
    const values = {
      logLevel: 'warn',
      kafka: { brokers: 'kafka-0.invalid:9092,kafka-1.invalid:9092', partitions: 6 },
      nats: { url: 'nats://nats.invalid:4222' },
      redis: { url: 'redis://redis.invalid:6379/0' },
      postgres: { url: databaseUrl, schema: 'market' },
      tracing: { otlpEndpoint: 'http://otel.invalid:4318' },
      worker: {
        replicas: 3,
        drainTimeoutMs: 30_000,
        flags: { intervals: '1m,5m', 'mailbox-capacity': '32' },
        nodeSelector: { 'tickmesh.test/pool': 'workers' },
        tolerations: [{ key: 'tickmesh.test/dedicated', operator: 'Exists', effect: 'NoSchedule' }],
      },
      operator: { leaseDurationSeconds: 2, renewDeadlineMs: 1500, retryPeriodMs: 250, flags: { debounce: '50' } },
      ingest: {
        venues: [
          { venue: 'binance', symbols: ['BTCUSDT', 'ETH-USDT'] },
          { venue: 'sim', symbols: ['BTC-USD'] },
        ],
      },
      grafanaDashboards: { enabled: true },
    };
    await helm(
      'install',
      release,
      CHART,
      '--namespace',
      namespace,
      '--create-namespace',
      '-f',
      await valuesFile('external', values),
    );

    // ---- workers: the scaling knob, their command line, drain budget, endpoints.
    const worker = await apps.readNamespacedDeployment({ name: `${fullname}-worker`, namespace });
    expect(worker.spec?.replicas).toBe(3);
    expectHardened(worker, 'metrics', 9464);
    const workerSpec = worker.spec?.template.spec as V1PodSpec;
    expect(workerSpec.automountServiceAccountToken).toBe(false);
    // Drain budget: up to handoffWaitMs (5 s) for the operator to move the partitions away, then
    // drainTimeoutMs (30 s); plus 15 s.
    expect(workerSpec.terminationGracePeriodSeconds).toBe(50);
    expect(workerSpec.nodeSelector).toEqual(values.worker.nodeSelector);
    expect(workerSpec.tolerations).toEqual(values.worker.tolerations);
    const wc = container(worker);
    expect(wc.image).toBe('tickmesh:0.1.0');
    expect(wc.args?.[0]).toBe('worker');
    const workerFlags = flagRecord(wc.args?.slice(1) ?? []);
    expect(Object.keys(workerFlags).filter((f) => !WORKER_FLAG_NAMES.includes(f))).toEqual([]);
    // As `tickmesh worker` does: the member name from POD_NAME.
    const options = parseWorkerOptions({
      ...workerFlags,
      'pod-name': resolvedEnv(wc, namespace, 'worker-pod').POD_NAME,
    });
    expect(options).toMatchObject({
      topic: 'tickmesh.trades.v1',
      lateTopic: 'tickmesh.trades.late.v1',
      rejectedTopic: 'tickmesh.trades.rejected.v1',
      intervals: ['1m', '5m'],
      mailboxCapacity: 32,
      drainTimeoutMs: 30_000,
      placement: 'operator',
      podName: 'worker-pod',
      handoffWaitMs: 5_000,
      port: 9464,
      schema: 'market',
      logLevel: 'warn',
    });
    // The chart's retention values, the same for the workers and the API.
    expect(options.retention).toEqual(DEFAULT_RETENTION);
    expect(workerSpec.terminationGracePeriodSeconds).toBeGreaterThan(
      (options.drainTimeoutMs + options.handoffWaitMs) / 1000,
    );
    expect(envOf(wc, 'KAFKA_BROKERS')?.value).toBe(values.kafka.brokers);
    // Server URLs (credentials) come from the chart's Secret, not from plain values.
    expect(envOf(wc, 'NATS_URL')?.valueFrom?.secretKeyRef).toEqual({ name: `${fullname}-urls`, key: 'NATS_URL' });
    expect(envOf(wc, 'REDIS_URL')?.valueFrom?.secretKeyRef).toEqual({ name: `${fullname}-urls`, key: 'REDIS_URL' });
    const urls = await core.readNamespacedSecret({ name: `${fullname}-urls`, namespace });
    const decoded = (k: string) => Buffer.from(urls.data?.[k] ?? '', 'base64').toString();
    const secrets = { [`${fullname}-urls`]: { NATS_URL: decoded('NATS_URL'), REDIS_URL: decoded('REDIS_URL') } };
    expect([decoded('NATS_URL'), decoded('REDIS_URL')]).toEqual([values.nats.url, values.redis.url]);
    expect(envOf(wc, 'OTEL_EXPORTER_OTLP_ENDPOINT')?.value).toBe(values.tracing.otlpEndpoint);
    // Kubernetes expands $(VAR) only from variables defined before it in the list.
    const names = wc.env?.map((e) => e.name) ?? [];
    expect(envOf(wc, 'OTEL_RESOURCE_ATTRIBUTES')?.value).toBe(
      `k8s.namespace.name=$(POD_NAMESPACE),k8s.pod.name=$(POD_NAME),service.namespace=${release}`,
    );
    expect(names.indexOf('POD_NAME')).toBeLessThan(names.indexOf('OTEL_RESOURCE_ATTRIBUTES'));
    expect(names.indexOf('POD_NAMESPACE')).toBeLessThan(names.indexOf('OTEL_RESOURCE_ATTRIBUTES'));
    const dbRef = envOf(wc, 'DATABASE_URL')?.valueFrom?.secretKeyRef;
    expect(dbRef).toEqual({ name: `${fullname}-database`, key: 'DATABASE_URL' });
    const secret = await core.readNamespacedSecret({ name: dbRef?.name as string, namespace });
    expect(Buffer.from(secret.data?.DATABASE_URL ?? '', 'base64').toString()).toBe(databaseUrl);

    // ---- operator: two replicas, its own ServiceAccount, a command line its parser accepts.
    const operatorName = `${fullname}-operator`;
    const operator = await apps.readNamespacedDeployment({ name: operatorName, namespace });
    expect(operator.spec?.replicas).toBe(2);
    expectHardened(operator, 'metrics', 9464);
    expect(operator.spec?.template.spec?.serviceAccountName).toBe(operatorName);
    const oc = container(operator);
    expect(oc.args?.[0]).toBe('operator');
    expect(envOf(oc, 'DATABASE_URL')).toBeUndefined();
    const operatorEnv = resolvedEnv(oc, namespace, `${operatorName}-pod`, secrets);
    const operatorConfig = parseOperatorConfig(oc.args?.slice(1) ?? [], operatorEnv);
    expect(operatorConfig).toMatchObject({
      namespace,
      partitions: 6,
      identity: `${operatorName}-pod`,
      lease: 'tickmesh-operator',
      leaseDurationSeconds: 2,
      renewDeadlineMs: 1500,
      retryPeriodMs: 250,
      debounceMs: 50,
      natsUrl: values.nats.url,
      metricsPort: 9464,
      logLevel: 'warn',
    });
    // The selector finds this release's worker pods and nothing else of the release.
    expect(matches(operatorConfig.selector, worker.spec?.template.metadata?.labels)).toBe(true);
    expect(matches(operatorConfig.selector, operator.spec?.template.metadata?.labels)).toBe(false);

    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const role = await rbac.readNamespacedRole({ name: operatorName, namespace });
    expect(role.rules?.map((r) => ({ ...r }))).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['tickmesh-operator'],
        verbs: ['get', 'update'],
      },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [PLACEMENT_CONFIGMAP], verbs: ['get', 'update'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    ]);
    const binding = await rbac.readNamespacedRoleBinding({ name: operatorName, namespace });
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: operatorName });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: operatorName, namespace }]);

    // ---- api: Deployment and Service on 8080.
    const api = await apps.readNamespacedDeployment({ name: `${fullname}-api`, namespace });
    expect(api.spec?.replicas).toBe(2);
    // The API's probes and /metrics are on its internal metrics port; the Service exposes http only.
    expectHardened(api, 'metrics', 9464);
    expect(container(api).ports?.find((p) => p.name === 'http')?.containerPort).toBe(8080);
    expect(container(api).args?.[0]).toBe('api');
    const apiFlags = flagRecord(container(api).args?.slice(1) ?? []);
    expect(Object.keys(apiFlags).filter((f) => !API_FLAG_NAMES.includes(f))).toEqual([]);
    expect(parseApiOptions(apiFlags)).toMatchObject({
      port: 8080,
      metricsPort: 9464,
      schema: 'market',
      logLevel: 'warn',
      retention: DEFAULT_RETENTION,
    });
    expect(envOf(container(api), 'KAFKA_BROKERS')).toBeUndefined();
    expect(envOf(container(api), 'DATABASE_URL')?.valueFrom?.secretKeyRef?.name).toBe(`${fullname}-database`);
    const apiService = await core.readNamespacedService({ name: `${fullname}-api`, namespace });
    expect(apiService.spec?.ports?.map((p) => [p.name, p.port, p.targetPort])).toEqual([['http', 8080, 'http']]);
    expect(apiService.spec?.selector).toEqual(api.spec?.selector?.matchLabels);

    // ---- ingest: its venues file and command line through the ingest command's own parser.
    const ingest = await apps.readNamespacedDeployment({ name: `${fullname}-ingest`, namespace });
    expect(ingest.spec?.replicas).toBe(1);
    expect(ingest.spec?.strategy?.type).toBe('Recreate');
    expectHardened(ingest, 'metrics', 9464);
    const ic = container(ingest);
    const venuesMap = await core.readNamespacedConfigMap({ name: `${fullname}-ingest`, namespace });
    const venuesPath = join(home, 'venues.json');
    await writeFile(venuesPath, venuesMap.data?.['venues.json'] ?? '');
    const ingestArgs = (ic.args?.slice(1) ?? []).map((a) =>
      a === '--config=/etc/tickmesh/ingest/venues.json' ? `--config=${venuesPath}` : a,
    );
    expect(ingestArgs).toContain(`--config=${venuesPath}`);
    expect(ic.volumeMounts?.find((m) => m.mountPath === '/etc/tickmesh/ingest')?.readOnly).toBe(true);
    const ingestConfig = parseIngestConfig(ingestArgs, resolvedEnv(ic, namespace, 'ingest-pod'));
    expect(ingestConfig.venues.map((v) => [v.venue, [...v.symbols]])).toEqual([
      ['binance', ['BTCUSDT', 'ETHUSDT']],
      ['sim', ['BTC-USD']],
    ]);
    expect(ingestConfig.kafkaBrokers).toEqual(values.kafka.brokers.split(','));
    expect(ingestConfig.topics).toEqual({
      trades: 'tickmesh.trades.v1',
      rejects: 'tickmesh.trades.rejected.v1',
      gaps: 'tickmesh.gaps.v1',
      klines: 'tickmesh.klines.v1',
    });
    expect(envOf(ic, 'DATABASE_URL')).toBeUndefined();

    // ---- disruption budgets, metrics Services, topics Job, dashboards.
    const policy = kc.makeApiClient(PolicyV1Api);
    const pdbs = await policy.listNamespacedPodDisruptionBudget({ namespace });
    expect(
      Object.fromEntries(
        pdbs.items.map((p) => [p.metadata?.name, p.spec?.minAvailable ?? `maxUnavailable ${p.spec?.maxUnavailable}`]),
      ),
    ).toEqual({
      [`${fullname}-worker`]: 'maxUnavailable 1',
      [`${fullname}-operator`]: 1,
      [`${fullname}-api`]: 'maxUnavailable 1',
    });
    const metricsServices = await core.listNamespacedService({ namespace, labelSelector: 'tickmesh.io/metrics=true' });
    expect(metricsServices.items.map((s) => s.metadata?.name).sort()).toEqual(
      ['api', 'ingest', 'operator', 'worker'].map((c) => `${fullname}-${c}-metrics`),
    );
    for (const s of metricsServices.items) {
      expect(s.spec?.clusterIP).toBe('None');
      expect(s.spec?.ports?.map((p) => [p.name, p.port, p.targetPort])).toEqual([['metrics', 9464, 'metrics']]);
    }
    const batch = kc.makeApiClient(BatchV1Api);
    const topicsJobs = async () =>
      (await batch.listNamespacedJob({ namespace, labelSelector: 'app.kubernetes.io/component=topics' })).items;
    const [job] = await topicsJobs();
    const jc = job?.spec?.template.spec?.containers[0] as V1Container;
    // `tickmesh topics` from the tickmesh image, nothing foreign; replication 3 for external Kafka.
    expect(jc.image).toBe(wc.image);
    expect(jc.args?.[0]).toBe('topics');
    expect(parseTopicsOptions(flagRecord(jc.args?.slice(1) ?? []))).toMatchObject({
      partitions: 6,
      replicationFactor: 3,
      topics: [
        'tickmesh.trades.v1',
        'tickmesh.trades.late.v1',
        'tickmesh.trades.rejected.v1',
        'tickmesh.gaps.v1',
        'tickmesh.klines.v1',
      ],
      waitSeconds: 600,
    });
    expect(envOf(jc, 'KAFKA_BROKERS')?.value).toBe(values.kafka.brokers);
    expect(jc.securityContext).toMatchObject({ readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const dashboards = await core.listNamespacedConfigMap({ namespace, labelSelector: 'grafana_dashboard=1' });
    expect(dashboards.items).toHaveLength(2);
    for (const cm of dashboards.items) {
      for (const [file, text] of Object.entries(cm.data ?? {})) {
        expect(JSON.parse(text)).toEqual(JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')));
      }
    }
    expect(await apps.listNamespacedStatefulSet({ namespace }).then((l) => l.items)).toEqual([]);

    // ---- RBAC in action: the real operator under the chart's ServiceAccount.
    const workerPods = await eventually(
      '3 worker pods',
      async () => {
        const list = await core.listNamespacedPod({ namespace, labelSelector: operatorConfig.selector });
        return list.items.length === 3 ? list.items.map((p) => p.metadata?.name as string).sort() : undefined;
      },
      60_000,
      250,
    );
    for (const pod of workerPods) await setPodReady(core, namespace, pod, true);

    const { status } = await core.createNamespacedServiceAccountToken({
      name: operatorName,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const cluster = kc.getCurrentCluster();
    if (!cluster || !status?.token) throw new Error('no cluster in the kubeconfig or no token issued');
    const asOperator = new KubeConfig();
    asOperator.loadFromClusterAndUser(cluster, { name: operatorName, token: status.token });
    const tokenKubeconfig = join(home, 'operator.kubeconfig');
    await writeFile(tokenKubeconfig, asOperator.exportConfig());

    const operatorPods = await core.listNamespacedPod({
      namespace,
      labelSelector: `app.kubernetes.io/instance=${release},app.kubernetes.io/component=operator`,
    });
    const identity = operatorPods.items[0]?.metadata?.name ?? `${operatorName}-pod`;
    // The chart's command line and environment, with the token's kubeconfig, a free metrics port
    // and without NATS (the placement goes to the ConfigMap only; no shared KV bucket is touched).
    const { NATS_URL: _nats, ...envWithoutNats } = resolvedEnv(oc, namespace, identity);
    const config = parseOperatorConfig(
      [...(oc.args?.slice(1) ?? []), `--kubeconfig=${tokenKubeconfig}`, '--metrics-port=0'],
      envWithoutNats,
    );
    const stop = new AbortController();
    const running = runOperator(config, stop.signal);
    try {
      const doc = await eventually(
        'the operator to publish a placement over the 3 Ready workers',
        async () => {
          const cm = await core.readNamespacedConfigMap({ name: PLACEMENT_CONFIGMAP, namespace });
          const d = parseDocument(cm.data?.[PLACEMENT_KEY] ?? '');
          return d.members.length === 3 ? d : undefined;
        },
        60_000,
        250,
      );
      expect([...doc.members].sort()).toEqual(workerPods);
      expect(doc.partitionCount).toBe(6);
      expect(doc.publishedBy).toBe(identity);
      const owners = new Map<string, number>();
      for (const p of doc.partitions) owners.set(p.owner as string, (owners.get(p.owner as string) ?? 0) + 1);
      expect([...owners.values()]).toEqual([2, 2, 2]);
      const lease = await kc
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: 'tickmesh-operator', namespace });
      expect(lease.spec?.holderIdentity).toBe(identity);
      const events = await eventually('a Rebalanced event', async () => {
        const list = await core.listNamespacedEvent({ namespace, fieldSelector: 'reason=Rebalanced' });
        return list.items.length > 0 ? list.items : undefined;
      });
      expect(events[0]?.involvedObject.name).toBe(PLACEMENT_CONFIGMAP);

      // And nothing more: the token is refused everything the Role does not grant.
      const asOperatorCore = asOperator.makeApiClient(CoreV1Api);
      await expect(asOperatorCore.listNamespacedSecret({ namespace })).rejects.toMatchObject({ code: 403 });
      await expect(
        asOperatorCore.deleteNamespacedPod({ name: workerPods[0] as string, namespace }),
      ).rejects.toMatchObject({
        code: 403,
      });
      await expect(
        asOperatorCore.readNamespacedConfigMap({ name: `${fullname}-ingest`, namespace }),
      ).rejects.toMatchObject({ code: 403 });
      await expect(asOperatorCore.listNamespacedPod({ namespace: 'default' })).rejects.toMatchObject({ code: 403 });
      await expect(
        asOperator.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: `${fullname}-worker`, namespace }),
      ).rejects.toMatchObject({ code: 403 });
    } finally {
      stop.abort();
      expect(await running).toBe(0);
    }

    // ---- scaling and upgrade: replicas follow the value; a new image makes a new topics Job and
    // removes the old one (a Job's pod template cannot be updated in place).
    await helm(
      'upgrade',
      release,
      CHART,
      '--namespace',
      namespace,
      '-f',
      await valuesFile('external', values),
      '--set',
      'worker.replicas=5',
      '--set',
      'image.tag=0.1.1',
    );
    const scaled = await apps.readNamespacedDeployment({ name: `${fullname}-worker`, namespace });
    expect(scaled.spec?.replicas).toBe(5);
    await eventually('the old topics Job to be replaced by one of the new image', async () => {
      const now = await topicsJobs();
      return now.length === 1 &&
        now[0]?.metadata?.name !== job?.metadata?.name &&
        now[0]?.spec?.template.spec?.containers[0]?.image === 'tickmesh:0.1.1'
        ? true
        : undefined;
    });

    await helm('uninstall', release, '--namespace', namespace, '--wait');
    for (const name of [`${fullname}-worker`, operatorName, `${fullname}-api`, `${fullname}-ingest`]) {
      await expect(apps.readNamespacedDeployment({ name, namespace })).rejects.toMatchObject({ code: 404 });
    }
    await expect(rbac.readNamespacedRole({ name: operatorName, namespace })).rejects.toMatchObject({ code: 404 });
    expect(JSON.parse(await helm('list', '--namespace', namespace, '--output', 'json'))).toEqual([]);
  });

  it('installs the single-node servers and a ServiceMonitor that selects every metrics Service', async () => {
    const namespace = freshName('chart-trial');
    const release = 'tickmesh';
    namespaces.push(namespace);
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const crdName = 'servicemonitors.monitoring.coreos.com';
    // The Prometheus operator's CRD, reduced to what the API server needs to store the object.
    const createdCrd = await ext
      .createCustomResourceDefinition({
        body: {
          metadata: { name: crdName },
          spec: {
            group: 'monitoring.coreos.com',
            names: {
              kind: 'ServiceMonitor',
              listKind: 'ServiceMonitorList',
              plural: 'servicemonitors',
              singular: 'servicemonitor',
            },
            scope: 'Namespaced',
            versions: [
              {
                name: 'v1',
                served: true,
                storage: true,
                schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
              },
            ],
          },
        },
      })
      .then(
        () => true,
        (err: { code?: number }) => {
          if (err.code === 409) return false;
          throw err;
        },
      );
    try {
      await eventually(
        'the ServiceMonitor CRD to be established',
        async () => {
          const crd = await ext.readCustomResourceDefinition({ name: crdName });
          return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
            ? true
            : undefined;
        },
        30_000,
        250,
      );
      await helm(
        'install',
        release,
        CHART,
        '--namespace',
        namespace,
        '--create-namespace',
        '--set',
        'singleNode.enabled=true',
        '--set',
        'singleNode.persistence.enabled=true',
        '--set',
        'serviceMonitor.enabled=true',
        '--set',
        'serviceMonitor.labels.release=prom',
      );

      const sets = await apps.listNamespacedStatefulSet({ namespace });
      expect(sets.items.map((s) => s.metadata?.name).sort()).toEqual([
        'tickmesh-kafka',
        'tickmesh-nats',
        'tickmesh-postgres',
        'tickmesh-redis',
      ]);
      for (const s of sets.items) {
        const spec = s.spec?.template.spec as V1PodSpec;
        const c = spec.containers[0] as V1Container;
        expect(spec.securityContext?.runAsNonRoot, s.metadata?.name).toBe(true);
        expect(spec.securityContext?.seccompProfile?.type, s.metadata?.name).toBe('RuntimeDefault');
        expect(c.securityContext?.capabilities?.drop, s.metadata?.name).toEqual(['ALL']);
        expect(c.readinessProbe, s.metadata?.name).toBeDefined();
        expect(
          s.spec?.volumeClaimTemplates?.map((v) => v.metadata?.name),
          s.metadata?.name,
        ).toEqual(['data']);
      }

      // The tickmesh processes point at the servers of the release.
      const worker = await apps.readNamespacedDeployment({ name: 'tickmesh-worker', namespace });
      const wc = container(worker);
      expect(envOf(wc, 'KAFKA_BROKERS')?.value).toBe(`tickmesh-kafka.${namespace}.svc:9092`);
      const urls = await core.readNamespacedSecret({ name: 'tickmesh-urls', namespace });
      expect(Buffer.from(urls.data?.NATS_URL ?? '', 'base64').toString()).toBe(
        `nats://tickmesh-nats.${namespace}.svc:4222`,
      );
      expect(Buffer.from(urls.data?.REDIS_URL ?? '', 'base64').toString()).toBe(
        `redis://tickmesh-redis.${namespace}.svc:6379/0`,
      );
      const secret = await core.readNamespacedSecret({ name: 'tickmesh-database', namespace });
      expect(Buffer.from(secret.data?.DATABASE_URL ?? '', 'base64').toString()).toBe(
        `postgres://tickmesh:tickmesh@tickmesh-postgres.${namespace}.svc:5432/tickmesh`,
      );
      const kafka = sets.items.find((s) => s.metadata?.name === 'tickmesh-kafka');
      const kafkaEnv = kafka?.spec?.template.spec?.containers[0]?.env ?? [];
      expect(kafkaEnv.find((e) => e.name === 'KAFKA_ADVERTISED_LISTENERS')?.value).toBe(
        `PLAINTEXT://tickmesh-kafka.${namespace}.svc:9092`,
      );
      expect(kafkaEnv.find((e) => e.name === 'KAFKA_AUTO_CREATE_TOPICS_ENABLE')?.value).toBe('false');
      // One broker: the topics Job asks for one replica.
      const jobs = await kc.makeApiClient(BatchV1Api).listNamespacedJob({ namespace });
      expect(jobs.items.map((j) => j.spec?.template.spec?.containers[0]?.args)).toEqual([
        expect.arrayContaining(['topics', '--replication-factor=1', '--partitions=12']),
      ]);
      for (const name of ['tickmesh-kafka', 'tickmesh-nats', 'tickmesh-redis', 'tickmesh-postgres']) {
        await core.readNamespacedService({ name, namespace });
      }

      const custom = kc.makeApiClient(CustomObjectsApi);
      const monitor = (await custom.getNamespacedCustomObject({
        group: 'monitoring.coreos.com',
        version: 'v1',
        namespace,
        plural: 'servicemonitors',
        name: 'tickmesh',
      })) as {
        metadata: { labels: Record<string, string> };
        spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
      };
      expect(monitor.metadata.labels.release).toBe('prom');
      expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
      const selector = Object.entries(monitor.spec.selector.matchLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const selected = await core.listNamespacedService({ namespace, labelSelector: selector });
      expect(selected.items.map((s) => s.metadata?.name).sort()).toEqual(
        ['api', 'ingest', 'operator', 'worker'].map((c) => `tickmesh-${c}-metrics`),
      );
      // Every metrics Service finds the pods of its component, whose container names the port.
      for (const s of selected.items) {
        const component = s.spec?.selector?.['app.kubernetes.io/component'];
        const d = await apps.readNamespacedDeployment({ name: `tickmesh-${component}`, namespace });
        expect(d.spec?.selector?.matchLabels).toEqual(s.spec?.selector);
        const target = s.spec?.ports?.[0]?.targetPort;
        expect(container(d).ports?.some((p) => p.name === target)).toBe(true);
      }

      await helm('uninstall', release, '--namespace', namespace, '--wait');
      expect(await apps.listNamespacedStatefulSet({ namespace }).then((l) => l.items)).toEqual([]);
    } finally {
      if (createdCrd) await ext.deleteCustomResourceDefinition({ name: crdName }).catch(() => undefined);
    }
  });
});
