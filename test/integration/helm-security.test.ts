import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  V1Container,
  V1Job,
  V1NetworkPolicy,
  V1NetworkPolicyEgressRule,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
  V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { loadAllYaml } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsSecurityFromEnv } from '../../internal/config/connection-security.js';
import { parseEndpoints } from '../../internal/config/endpoints.js';
import { helmIn } from '../harness/helm.js';

// deploy/helm/tickmesh rendered by the harness's helm (`helm template`): the TLS and credential
// values of each server reach each role as mounted Secret files named by the *_FILE variables
// that the roles' own parsers read, and the NetworkPolicies, evaluated here by the rules of
// the NetworkPolicy API, let each role reach what it needs and nothing else. Installing them
// on a node with a CNI that enforces NetworkPolicy is left to the cluster (test/cluster).

const CHART = fileURLToPath(new URL('../../deploy/helm/tickmesh', import.meta.url));

let home: string;
const helm = helmIn(() => home);

interface K8sObject {
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec?: unknown;
}

async function render(values: unknown): Promise<K8sObject[]> {
  const file = join(home, `values-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(values));
  const out = await helm('template', 'sec', CHART, '--namespace', 'trading', '-f', file);
  return (loadAllYaml(out) as (K8sObject | null)[]).filter((o): o is K8sObject => o !== null);
}

async function renderFails(values: unknown): Promise<string> {
  try {
    await render(values);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the render succeeded');
}

const external = {
  kafka: { brokers: 'kafka-0.kafka:9093' },
  nats: { url: 'tls://nats.messaging:4222' },
  redis: { url: 'rediss://redis.cache:6380/0' },
  postgres: { url: 'postgres://tickmesh@pg.db:5432/tickmesh' },
};

const secured = {
  kafka: {
    ...external.kafka,
    tls: { enabled: true, ca: { secretName: 'kafka-ca' } },
    sasl: { mechanism: 'scram-sha-512', username: 'tickmesh', password: { secretName: 'kafka-user', key: 'pw' } },
  },
  nats: {
    ...external.nats,
    tls: {
      enabled: true,
      ca: { secretName: 'nats-ca' },
      cert: { secretName: 'nats-client' },
      key: { secretName: 'nats-client' },
    },
    auth: {
      creds: { secretName: 'nats-creds' },
      byRole: { worker: { secretName: 'nats-worker' }, operator: { secretName: 'nats-operator', key: 'op.creds' } },
    },
  },
  redis: {
    ...external.redis,
    tls: { ca: { secretName: 'redis-ca' } },
    username: 'tickmesh',
    password: { secretName: 'redis-user' },
  },
  postgres: { ...external.postgres, tls: { ca: { secretName: 'pg-ca' } }, password: { secretName: 'pg-user' } },
};

function podTemplate(objects: K8sObject[], kind: 'Deployment' | 'Job', nameEnd: string): V1PodTemplateSpec {
  const o = objects.find((x) => x.kind === kind && x.metadata.name.includes(nameEnd));
  if (!o) throw new Error(`no ${kind} *${nameEnd}`);
  return (o as unknown as V1Job).spec?.template as V1PodTemplateSpec;
}

/** Environment values (not Secret references) of a container. */
function plainEnv(c: V1Container): Record<string, string> {
  return Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value ?? '']));
}

/** Mounted file path -> `secret/key`, from the container's mounts and the pod's projected volumes. */
function mountedFiles(t: V1PodTemplateSpec): Map<string, string> {
  const files = new Map<string, string>();
  const c = t.spec?.containers[0] as V1Container;
  for (const m of c.volumeMounts ?? []) {
    const v = t.spec?.volumes?.find((x) => x.name === m.name);
    for (const source of v?.projected?.sources ?? []) {
      for (const item of source.secret?.items ?? []) {
        files.set(`${m.mountPath}/${item.path}`, `${source.secret?.name}/${item.key}`);
      }
    }
    for (const item of v?.secret?.items ?? [])
      files.set(`${m.mountPath}/${item.path}`, `${v?.secret?.secretName}/${item.key}`);
  }
  return files;
}

describe('chart: TLS and credentials from Secrets', () => {
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'tickmesh-chart-sec-'));
  });
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("every role's parser reads its servers' files, each mounted from the Secret and key the values name", async () => {
    const objects = await render(secured);
    const roles = {
      worker: podTemplate(objects, 'Deployment', '-worker'),
      ingest: podTemplate(objects, 'Deployment', '-ingest'),
      api: podTemplate(objects, 'Deployment', '-api'),
      operator: podTemplate(objects, 'Deployment', '-operator'),
      topics: podTemplate(objects, 'Job', '-topics-'),
    };
    const urls = { NATS_URL: secured.nats.url, REDIS_URL: secured.redis.url, DATABASE_URL: secured.postgres.url };
    const parsed = Object.fromEntries(
      Object.entries(roles).map(([role, t]) => {
        const env = { ...plainEnv(t.spec?.containers[0] as V1Container), ...urls };
        return [role, { env, endpoints: parseEndpoints({}, env), files: mountedFiles(t) }];
      }),
    );
    const secretOf = (role: string, path: string | undefined) => {
      expect(path, `${role}: a file flag is set`).toBeDefined();
      return parsed[role]?.files.get(path ?? '');
    };

    for (const role of ['worker', 'ingest', 'topics']) {
      const k = parsed[role]?.endpoints.kafkaSecurity;
      expect(k?.protocol, role).toBe('sasl_ssl');
      expect(k?.sasl?.mechanism).toBe('scram-sha-512');
      expect(k?.sasl?.username).toBe('tickmesh');
      expect(secretOf(role, k?.sasl?.passwordFile)).toBe('kafka-user/pw');
      expect(secretOf(role, k?.tls?.caFile)).toBe('kafka-ca/ca.crt');
    }
    for (const role of ['api', 'operator']) {
      expect(parsed[role]?.endpoints.kafkaSecurity, role).toBeUndefined();
      expect(
        [...(parsed[role]?.files.keys() ?? [])].some((p) => p.includes('/kafka/')),
        role,
      ).toBe(false);
    }

    // NATS: the worker and the operator their own .creds, the API the release's; TLS required.
    const natsCreds = {
      worker: 'nats-worker/user.creds',
      operator: 'nats-operator/op.creds',
      api: 'nats-creds/user.creds',
    };
    for (const [role, secret] of Object.entries(natsCreds)) {
      const p = parsed[role];
      const n = role === 'operator' ? natsSecurityFromEnv(p?.env ?? {}, secured.nats.url) : p?.endpoints.natsSecurity;
      expect(secretOf(role, n?.credsFile), role).toBe(secret);
      expect(secretOf(role, n?.tls?.caFile)).toBe('nats-ca/ca.crt');
      expect(secretOf(role, n?.tls?.certFile)).toBe('nats-client/tls.crt');
      expect(secretOf(role, n?.tls?.keyFile)).toBe('nats-client/tls.key');
    }
    for (const role of ['ingest', 'topics']) {
      expect(
        [...(parsed[role]?.files.keys() ?? [])].some((p) => !p.includes('/kafka/')),
        role,
      ).toBe(false);
    }

    for (const role of ['worker', 'api']) {
      const { redisSecurity, postgresSecurity } = parsed[role]?.endpoints ?? {};
      expect(redisSecurity?.username, role).toBe('tickmesh');
      expect(secretOf(role, redisSecurity?.passwordFile)).toBe('redis-user/password');
      expect(secretOf(role, redisSecurity?.tls?.caFile)).toBe('redis-ca/ca.crt');
      expect(secretOf(role, postgresSecurity?.passwordFile)).toBe('pg-user/password');
      expect(secretOf(role, postgresSecurity?.tls?.caFile)).toBe('pg-ca/ca.crt');
    }

    // Nothing secret in a spec: no Secret is read into the environment but the URLs, and the
    // command lines name no credential.
    for (const [role, t] of Object.entries(roles)) {
      const c = t.spec?.containers[0] as V1Container;
      const fromSecrets = (c.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name);
      expect(
        fromSecrets.every((n) => n in urls),
        role,
      ).toBe(true);
      expect((c.args ?? []).join(' '), role).not.toMatch(/password|token|creds|seed/i);
    }
  });

  it('renders no credential volume without the values, and a password user per role', async () => {
    const plain = await render(external);
    for (const end of ['-worker', '-api', '-ingest', '-operator']) {
      const t = podTemplate(plain, 'Deployment', end);
      expect(t.spec?.volumes?.map((v) => v.name)).not.toContain('credentials');
      expect(
        Object.keys(plainEnv(t.spec?.containers[0] as V1Container)).filter((n) => /_FILE$|SECURITY/.test(n)),
      ).toEqual([]);
    }
    const objects = await render({
      ...external,
      nats: {
        ...external.nats,
        auth: {
          user: 'tickmesh',
          password: { secretName: 'nats-pw' },
          byRole: { api: { secretName: 'nats-api', user: 'reader' } },
        },
      },
    });
    const api = plainEnv(podTemplate(objects, 'Deployment', '-api').spec?.containers[0] as V1Container);
    const worker = plainEnv(podTemplate(objects, 'Deployment', '-worker').spec?.containers[0] as V1Container);
    expect(api.NATS_USER).toBe('reader');
    expect(worker.NATS_USER).toBe('tickmesh');
    expect(mountedFiles(podTemplate(objects, 'Deployment', '-api')).get(api.NATS_PASSWORD_FILE ?? '')).toBe(
      'nats-api/password',
    );
  });

  it('gives ingest alone the proxy, from a value or a Secret, and the API keys file to the API', async () => {
    const byValue = await render({
      ...external,
      ingest: { httpsProxy: 'http://proxy.corp:3128', noProxy: '.svc,10.0.0.0/8' },
    });
    const ingest = podTemplate(byValue, 'Deployment', '-ingest').spec?.containers[0] as V1Container;
    expect(plainEnv(ingest)).toMatchObject({ HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: '.svc,10.0.0.0/8' });
    for (const end of ['-worker', '-api', '-operator']) {
      const env = plainEnv(podTemplate(byValue, 'Deployment', end).spec?.containers[0] as V1Container);
      expect(env.HTTPS_PROXY, end).toBeUndefined();
    }
    const bySecret = await render({ ...external, ingest: { proxySecret: { secretName: 'proxy' } } });
    const ingestBySecret = podTemplate(bySecret, 'Deployment', '-ingest').spec?.containers[0];
    const ref = ingestBySecret?.env?.find((e) => e.name === 'HTTPS_PROXY');
    expect(ref?.valueFrom?.secretKeyRef).toEqual({ name: 'proxy', key: 'HTTPS_PROXY' });

    const withKeys = await render({ ...external, api: { auth: { existingSecret: 'api-keys' } } });
    const api = podTemplate(withKeys, 'Deployment', '-api');
    const keysArg = (api.spec?.containers[0]?.args ?? []).find((a) => a.startsWith('--api-keys-file='));
    expect(mountedFiles(api).get(keysArg?.split('=')[1] ?? '')).toBe('api-keys/api-keys');
  });

  it('Kafka OAUTHBEARER: a token Secret, the projected ServiceAccount token, or client credentials', async () => {
    const kafkaEnv = async (oauth: Record<string, unknown>) => {
      const objects = await render({
        ...external,
        kafka: { ...external.kafka, tls: { enabled: true }, sasl: { mechanism: 'oauthbearer', oauth } },
      });
      const t = podTemplate(objects, 'Deployment', '-worker');
      const env = plainEnv(t.spec?.containers[0] as V1Container);
      return { t, oauth: parseEndpoints({}, env).kafkaSecurity?.oauth };
    };
    const bySecret = await kafkaEnv({ token: { secretName: 'kafka-token' } });
    expect(mountedFiles(bySecret.t).get((bySecret.oauth as { tokenFile: string }).tokenFile)).toBe('kafka-token/token');

    const byServiceAccount = await kafkaEnv({ serviceAccountToken: { enabled: true, audience: 'kafka.example' } });
    const sources = byServiceAccount.t.spec?.volumes?.find((v) => v.name === 'credentials')?.projected?.sources ?? [];
    expect(sources.map((x) => x.serviceAccountToken).filter(Boolean)).toEqual([
      { audience: 'kafka.example', expirationSeconds: 3600, path: 'kafka/sa-token' },
    ]);
    expect(byServiceAccount.oauth).toEqual({ tokenFile: '/etc/tickmesh/credentials/kafka/sa-token' });

    const byClient = await kafkaEnv({
      tokenEndpoint: 'https://idp.example/oauth2/token',
      clientId: 'tickmesh',
      clientSecret: { secretName: 'kafka-client' },
      scope: 'kafka',
    });
    const client = byClient.oauth as { clientSecretFile: string };
    expect(byClient.oauth).toMatchObject({
      tokenEndpoint: 'https://idp.example/oauth2/token',
      clientId: 'tickmesh',
      scope: 'kafka',
    });
    expect(mountedFiles(byClient.t).get(client.clientSecretFile)).toBe('kafka-client/client-secret');
  });

  it('refuses contradictory security values, each with a message naming the values', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...external, kafka: { ...external.kafka, tls: { ca: { secretName: 'x' } } } }, /kafka.tls.enabled is false/],
      [
        { ...external, kafka: { ...external.kafka, tls: { enabled: true, cert: { secretName: 'x' } } } },
        /kafka.tls.cert and kafka.tls.key go together/,
      ],
      [{ ...external, kafka: { ...external.kafka, sasl: { mechanism: 'plain' } } }, /needs kafka.sasl.username/],
      [{ ...external, kafka: { ...external.kafka, sasl: { mechanism: 'gssapi' } } }, /mechanism/],
      [{ ...external, kafka: { ...external.kafka, sasl: { username: 'u' } } }, /without kafka.sasl.mechanism/],
      [
        { ...external, nats: { ...external.nats, auth: { creds: { secretName: 'a' }, token: { secretName: 'b' } } } },
        /choose one kind of credential, not creds and token/,
      ],
      [{ ...external, nats: { ...external.nats, auth: { password: { secretName: 'a' } } } }, /needs nats.auth.user/],
      [
        { ...external, nats: { ...external.nats, auth: { byRole: { worker: { secretName: 'w' } } } } },
        /byRole.worker names a Secret but nats.auth chooses no kind/,
      ],
      [{ ...external, nats: { ...external.nats, tls: { ca: { secretName: 'x' } } } }, /nats.tls.enabled is false/],
      [
        { ...external, redis: { ...external.redis, tls: { key: { secretName: 'x' } } } },
        /redis.tls.cert and redis.tls.key/,
      ],
      [{ singleNode: { enabled: true }, kafka: { tls: { enabled: true } } }, /singleNode servers run without TLS/],
      [{ ...external, postgres: { ...external.postgres, password: { secret: 'x' } } }, /additional propert/],
      [{ ...external, ingest: { httpsProxy: 'http://p:1', proxySecret: { secretName: 'p' } } }, /choose one/],
      [{ ...external, ingest: { httpsProxy: 'socks5://p:1' } }, /httpsProxy/],
      [
        { ...external, kafka: { ...external.kafka, sasl: { mechanism: 'oauthbearer' } } },
        /needs exactly one of kafka.sasl.oauth.token/,
      ],
      [
        {
          ...external,
          kafka: { ...external.kafka, sasl: { mechanism: 'oauthbearer', oauth: { tokenEndpoint: 'https://i/t' } } },
        },
        /tokenEndpoint, clientId and clientSecret.secretName go together/,
      ],
      [
        { ...external, kafka: { ...external.kafka, sasl: { oauth: { token: { secretName: 't' } } } } },
        /mechanism is not oauthbearer/,
      ],
    ];
    for (const [values, message] of cases) {
      expect(await renderFails(values)).toMatch(message);
    }
  });
});

// --- NetworkPolicies, evaluated as the API defines them -------------------------------------

interface Endpoint {
  readonly namespace: string;
  readonly namespaceLabels?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly ip: string;
  /** Named container ports of a pod. */
  readonly ports?: Readonly<Record<string, number>>;
}

function selects(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  if (selector?.matchExpressions?.length) throw new Error('matchExpressions: not evaluated here');
  return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v);
}

function ipv4(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  if (base.includes(':') !== ip.includes(':')) return false; // the tests' addresses are IPv4
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base) / size);
}

function peerMatches(peer: V1NetworkPolicyPeer, other: Endpoint, policyNamespace: string): boolean {
  if (peer.ipBlock) {
    return inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(other.ip, c));
  }
  if (!other.labels) return false; // not a pod: only ipBlock peers match it
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, other.namespaceLabels)
    : other.namespace === policyNamespace;
  return namespaceOk && (peer.podSelector ? selects(peer.podSelector, other.labels) : true);
}

function portMatches(
  ports: V1NetworkPolicyPort[] | undefined,
  port: number,
  protocol: string,
  named: Readonly<Record<string, number>>,
): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some(
    (p) =>
      (p.protocol ?? 'TCP') === protocol &&
      (p.port === undefined || (typeof p.port === 'number' ? p.port : named[p.port]) === port),
  );
}

/** Whether `policies` let `pod` send to (egress) or receive from (ingress) `other` on port/protocol. */
function allowed(
  policies: V1NetworkPolicy[],
  direction: 'Egress' | 'Ingress',
  pod: Endpoint,
  other: Endpoint,
  port: number,
  protocol = 'TCP',
): boolean {
  const applying = policies.filter(
    (p) =>
      p.metadata?.namespace === pod.namespace &&
      selects(p.spec?.podSelector, pod.labels) &&
      (p.spec?.policyTypes ?? []).includes(direction),
  );
  if (applying.length === 0) return true;
  // An ingress port is the selected pod's own; an egress port is the peer's.
  const named = direction === 'Ingress' ? (pod.ports ?? {}) : (other.ports ?? {});
  return applying.some((p) => {
    const rules = direction === 'Egress' ? (p.spec?.egress ?? []) : (p.spec?.ingress ?? []);
    return rules.some((r) => {
      // loadAllYaml names an ingress rule's `from` `_from` (V1NetworkPolicyIngressRule).
      const peers =
        direction === 'Egress' ? (r as V1NetworkPolicyEgressRule).to : (r as V1NetworkPolicyIngressRule)._from;
      const peerOk = !peers || peers.length === 0 || peers.some((x) => peerMatches(x, other, pod.namespace));
      return peerOk && portMatches(r.ports, port, protocol, named);
    });
  });
}

describe('chart: NetworkPolicies', () => {
  const ns = 'trading';
  const nsLabels = (name: string) => ({ 'kubernetes.io/metadata.name': name });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'tickmesh-chart-np-'));
  });
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  async function policiesAndPods(values: Record<string, unknown>) {
    const objects = await render({ ...values, networkPolicy: { enabled: true, ...(values.networkPolicy as object) } });
    const policies = objects
      .filter((o) => o.kind === 'NetworkPolicy')
      .map((o) => ({ ...(o as V1NetworkPolicy), metadata: { ...(o as V1NetworkPolicy).metadata, namespace: ns } }));
    const pod = (kind: 'Deployment' | 'Job' | 'StatefulSet', end: string, ip: string): Endpoint => {
      const o = objects.find((x) => x.kind === kind && x.metadata.name.includes(end));
      const t = (o as unknown as V1Job).spec?.template as V1PodTemplateSpec;
      const ports = Object.fromEntries(
        (t.spec?.containers[0]?.ports ?? []).map((p) => [p.name ?? '', p.containerPort]),
      );
      return { namespace: ns, namespaceLabels: nsLabels(ns), labels: t.metadata?.labels ?? {}, ip, ports };
    };
    return { policies, objects, pod };
  }

  const outside = (ip: string): Endpoint => ({ namespace: '', ip });
  const dns: Endpoint = {
    namespace: 'kube-system',
    namespaceLabels: nsLabels('kube-system'),
    labels: { 'k8s-app': 'kube-dns' },
    ip: '10.244.0.10',
  };
  const podIn = (namespace: string): Endpoint => ({
    namespace,
    namespaceLabels: nsLabels(namespace),
    labels: { app: 'anything' },
    ip: '10.244.9.9',
  });

  it('each role reaches only its servers, DNS, and (ingest) the venues; is reached only on its ports', async () => {
    const { policies, objects, pod } = await policiesAndPods({
      ...external,
      networkPolicy: {
        kafka: { to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [9093] },
        nats: { to: [{ ipBlock: { cidr: '10.21.0.5/32' } }], ports: [4222] },
        redis: { to: [{ ipBlock: { cidr: '10.22.0.0/24' } }], ports: [6380] },
        postgres: { to: [{ ipBlock: { cidr: '10.23.0.0/24' } }], ports: [5432] },
        kubernetesApi: { to: [{ ipBlock: { cidr: '10.96.0.1/32' } }], ports: [443] },
      },
    });
    const deny = objects.find((o) => o.metadata.name.endsWith('-default-deny')) as V1NetworkPolicy;
    expect(deny.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(deny.spec?.ingress ?? []).toEqual([]);
    expect(deny.spec?.egress ?? []).toEqual([]);

    const kafka = outside('10.20.1.1');
    const nats = outside('10.21.0.5');
    const redis = outside('10.22.0.7');
    const postgres = outside('10.23.0.8');
    const kubeApi = outside('10.96.0.1');
    const exchange = outside('203.0.113.5');
    const roles = {
      worker: pod('Deployment', '-worker', '10.244.1.1'),
      ingest: pod('Deployment', '-ingest', '10.244.1.2'),
      operator: pod('Deployment', '-operator', '10.244.1.3'),
      api: pod('Deployment', '-api', '10.244.1.4'),
      topics: pod('Job', '-topics-', '10.244.1.5'),
    };
    const targets: Record<string, [Endpoint, number]> = {
      kafka: [kafka, 9093],
      nats: [nats, 4222],
      redis: [redis, 6380],
      postgres: [postgres, 5432],
      kubeApi: [kubeApi, 443],
      exchange: [exchange, 443],
      exchangeSsh: [exchange, 22],
      kafkaElsewhere: [outside('10.30.0.1'), 9093],
      natsOtherPort: [nats, 8222],
    };
    const expected: Record<keyof typeof roles, string[]> = {
      worker: ['kafka', 'nats', 'redis', 'postgres'],
      ingest: ['kafka', 'exchange'],
      operator: ['nats', 'kubeApi'],
      api: ['nats', 'redis', 'postgres'],
      topics: ['kafka'],
    };
    for (const [role, endpoint] of Object.entries(roles)) {
      const reached = Object.entries(targets)
        .filter(([, [to, port]]) => allowed(policies, 'Egress', endpoint, to, port))
        .map(([name]) => name);
      expect(reached, role).toEqual(expected[role as keyof typeof roles]);
      expect(allowed(policies, 'Egress', endpoint, dns, 53, 'UDP'), `${role} DNS`).toBe(true);
      expect(allowed(policies, 'Egress', endpoint, outside('8.8.8.8'), 53, 'UDP'), `${role} other DNS`).toBe(false);
      // No role reaches another tickmesh pod directly.
      expect(allowed(policies, 'Egress', endpoint, roles.api, 8080), `${role} to api`).toBe(false);
    }

    const monitoring = podIn('monitoring');
    const stranger = podIn('default');
    for (const [role, endpoint] of Object.entries(roles)) {
      if (role === 'topics') continue;
      expect(allowed(policies, 'Ingress', endpoint, monitoring, 9464), `${role} scraped`).toBe(true);
      expect(allowed(policies, 'Ingress', endpoint, stranger, 9464), `${role} metrics from default`).toBe(false);
    }
    expect(allowed(policies, 'Ingress', roles.api, stranger, 8080)).toBe(true);
    expect(allowed(policies, 'Ingress', roles.worker, stranger, 8080)).toBe(false);
    expect(allowed(policies, 'Ingress', roles.topics, monitoring, 9464)).toBe(false);
  });

  it('narrows the API and the venues to the values, and lets the single-node servers serve the release alone', async () => {
    const { policies, pod } = await policiesAndPods({
      singleNode: { enabled: true },
      networkPolicy: {
        apiFrom: [{ namespaceSelector: { matchLabels: nsLabels('ingress-nginx') } }],
        ingestEgress: [{ to: [{ ipBlock: { cidr: '10.40.0.8/32' } }], ports: [{ port: 3128, protocol: 'TCP' }] }],
      },
    });
    const api = pod('Deployment', '-api', '10.244.1.4');
    const ingest = pod('Deployment', '-ingest', '10.244.1.2');
    const worker = pod('Deployment', '-worker', '10.244.1.1');
    expect(allowed(policies, 'Ingress', api, podIn('ingress-nginx'), 8080)).toBe(true);
    expect(allowed(policies, 'Ingress', api, podIn('default'), 8080)).toBe(false);
    expect(allowed(policies, 'Egress', ingest, outside('10.40.0.8'), 3128)).toBe(true);
    expect(allowed(policies, 'Egress', ingest, outside('203.0.113.5'), 443)).toBe(false);

    const kafka = pod('StatefulSet', '-kafka', '10.244.2.1');
    const postgres = pod('StatefulSet', '-postgres', '10.244.2.2');
    expect(allowed(policies, 'Egress', worker, kafka, 9092)).toBe(true);
    expect(allowed(policies, 'Ingress', kafka, worker, 9092)).toBe(true);
    expect(allowed(policies, 'Egress', worker, postgres, 5432)).toBe(true);
    expect(allowed(policies, 'Egress', worker, outside('10.23.0.8'), 5432)).toBe(false);
    expect(allowed(policies, 'Egress', ingest, postgres, 5432)).toBe(false);
    expect(allowed(policies, 'Ingress', kafka, podIn('default'), 9092)).toBe(false);
    expect(allowed(policies, 'Egress', kafka, outside('203.0.113.5'), 443)).toBe(false);
  });
});
