import { readdirSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REJECT_REASONS } from '../../internal/ingest/events.js';
import { IngestMetrics } from '../../internal/ingest/metrics.js';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { createKafkaClient } from '../../internal/log/kafka-client.js';
import { createKafkaProducer } from '../../internal/log/kafka-producer.js';
import type { LogProducer } from '../../internal/log/log.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { createOperatorMetrics } from '../../internal/operator/metrics.js';
import { createApiMetrics } from '../../internal/serve/api-metrics.js';
import { createWorkerMetrics } from '../../internal/worker/metrics.js';
import { createPlacementFollower, type PlacementFollowerDeps } from '../../internal/worker/placement-follower.js';
import { createVerificationMetrics } from '../../internal/worker/verification-metrics.js';
import { endpoint, freshName } from '../harness/env.js';

// Every query of every Prometheus dashboard in dashboards/grafana runs against the real Prometheus of the
// harness, which scrapes registries built by the components' own metric factories (the same
// createRegistry defaults, role labels and process metrics as the processes) while this test keeps
// observing into them. A query must parse, return at least one series, and yield finite numbers;
// every metric it names must be one a component registers, selected by the dashboard's namespace.

const DIR = fileURLToPath(new URL('../../dashboards/grafana/', import.meta.url));
/** What Grafana would put for $__rate_interval with a 1 s scrape interval, rounded up. */
const RATE_WINDOW = '10s';
/** Every panel takes its data source from the dashboard's `datasource` variable. */
const GRAFANA_DATASOURCE = ['$', '{datasource}'].join('');

interface Target {
  readonly refId: string;
  readonly expr: string;
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { type: string; uid: string };
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly targets?: Target[];
  readonly panels?: Panel[];
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query?: string | { query: string };
}
interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: Panel[];
  readonly templating: { list: Variable[] };
}
interface Query {
  readonly where: string;
  readonly expr: string;
}
interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

const allDashboards: [string, Dashboard][] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => [f, JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Dashboard]);
/** The dashboards on Prometheus; the market dashboard reads PostgreSQL (dashboards-sql.test.ts). */
const dashboards = allDashboards.filter(([, d]) =>
  d.templating.list.some((v) => v.type === 'datasource' && v.query === 'prometheus'),
);

function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

function queriesOf(file: string, d: Dashboard): Query[] {
  return allPanels(d.panels).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `${file} panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr })),
  );
}

function variableQuery(v: Variable): string | undefined {
  return typeof v.query === 'string' ? v.query : v.query?.query;
}

/** The expression Grafana would send, with the dashboard's variables set to `values`. */
function concrete(expr: string, values: Readonly<Record<string, string>>): string {
  return expr
    .replaceAll('$__rate_interval', RATE_WINDOW)
    .replaceAll('$__interval', RATE_WINDOW)
    .replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
      const value = values[name];
      if (value === undefined) throw new Error(`${whole} is not a variable of the dashboard`);
      return value;
    });
}

/** Metric selectors `name{...}`: every metric a dashboard query names, with its label matchers. */
function selectors(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1] as string);
}

/**
 * What is wrong with `expr` statically: a metric no component registers, a metric named without
 * a `{...}` selector, or a selector without the namespace matcher (one Prometheus, many releases).
 */
function staticProblems(expr: string, exported: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const named = selectors(expr);
  for (const name of named) if (!exported.has(name)) problems.push(`${name} is not exported by any component`);
  const bare = (expr.match(/\btickmesh_[a-zA-Z0-9_]+\b/g) ?? []).filter((n) => !named.includes(n));
  for (const name of bare) problems.push(`${name} is named without a {namespace="$namespace"} selector`);
  for (const m of expr.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*\{([^}]*)\}/g)) {
    if (!(m[1] ?? '').includes('namespace="$namespace"')) problems.push(`${m[0]} does not select $namespace`);
  }
  if (named.length === 0) problems.push('names no metric');
  return problems;
}

async function prometheus(path: string, params: Record<string, string | string[]>) {
  const url = new URL(path, endpoint('PROMETHEUS_URL'));
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) url.searchParams.append(k, x);
  const res = await fetch(url);
  return (await res.json()) as { status: string; data?: unknown; errorType?: string; error?: string };
}

type Outcome = { ok: true } | { ok: false; permanent: boolean; reason: string };

/** One run of a query: parses, returns series, every value a finite number. */
async function evaluate(expr: string): Promise<Outcome> {
  const body = await prometheus('/api/v1/query', { query: expr });
  if (body.status !== 'success') {
    return { ok: false, permanent: body.errorType === 'bad_data', reason: `${body.errorType}: ${body.error}` };
  }
  const data = body.data as { resultType: string; result: Sample[] | [number, string] };
  if (data.resultType === 'scalar' || data.resultType === 'string') {
    return { ok: false, permanent: true, reason: `a ${data.resultType}, not series` };
  }
  const result = data.result as Sample[];
  if (result.length === 0) return { ok: false, permanent: false, reason: 'no series' };
  const bad = result.filter((s) => !Number.isFinite(Number(s.value[1])));
  if (bad.length > 0) return { ok: false, permanent: false, reason: `non-finite values ${JSON.stringify(bad)}` };
  return { ok: true };
}

/**
 * Runs every query until each has passed once or `ms` is over (rates need two scrapes in their
 * window); returns the failures with their last reason. Parse errors fail at once.
 */
async function checkAll(queries: readonly Query[], ms: number): Promise<string[]> {
  const pending = new Map(queries.map((q) => [q, 'not run']));
  const failed: string[] = [];
  const deadline = Date.now() + ms;
  while (pending.size > 0) {
    for (const q of [...pending.keys()]) {
      const outcome = await evaluate(q.expr);
      if (outcome.ok) pending.delete(q);
      else if (outcome.permanent) {
        pending.delete(q);
        failed.push(`${q.where}: ${outcome.reason}\n    ${q.expr}`);
      } else pending.set(q, outcome.reason);
    }
    if (pending.size === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const [q, reason] of pending) failed.push(`${q.where}: ${reason}\n    ${q.expr}`);
  return failed;
}

/** Every series name the registries expose (histograms as their _bucket, _sum and _count). */
async function exportedNames(registries: readonly Registry[]): Promise<Set<string>> {
  const names = new Set<string>();
  for (const r of registries) {
    for (const m of await r.getMetricsAsJSON()) {
      names.add(m.name);
      if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${m.name}${s}`);
      if (String(m.type) === 'summary') for (const s of ['_sum', '_count']) names.add(`${m.name}${s}`);
    }
  }
  return names;
}

describe('Grafana dashboards against the real Prometheus', () => {
  const namespace = freshName('dash');
  const topic = freshName('dash-topic');
  const values: Record<string, string> = { namespace, venue: '.*', market: '.*', datasource: 'prometheus' };
  const workerRegistry = createRegistry({ role: 'worker' });
  const ingestRegistry = createRegistry({ role: 'ingest' });
  const operatorRegistry = createRegistry({ role: 'operator' });
  const apiRegistry = createRegistry({ role: 'api' });
  const registries = [workerRegistry, ingestRegistry, operatorRegistry, apiRegistry];
  const worker = createWorkerMetrics(workerRegistry);
  const ingest = new IngestMetrics(ingestRegistry);
  const operator = createOperatorMetrics(operatorRegistry);
  const api = createApiMetrics(apiRegistry);
  const verification = createVerificationMetrics(workerRegistry);
  // The placement follower registers its handoff histograms when it is built (it is not started:
  // the worker and bus it would drive are never touched); the test observes into them.
  createPlacementFollower({
    registry: workerRegistry,
    logger: silentLogger(),
    self: 'worker-0',
    handoffWaitMs: 1_000,
    clock: Date.now,
  } as PlacementFollowerDeps);
  const handoffPause = workerRegistry.getSingleMetric('tickmesh_worker_handoff_pause_seconds') as Histogram;
  const takeover = workerRegistry.getSingleMetric('tickmesh_worker_takeover_seconds') as Histogram<'kind'>;
  const producers: LogProducer[] = [];
  const servers: Server[] = [];
  const sdFiles: string[] = [];
  let exported: Set<string>;
  let ticker: NodeJS.Timeout | undefined;
  let tick = 0;
  let sends: Promise<unknown>[] = [];

  const venues = ['binance', 'coinbase'];
  const markets = ['BTC-USDT', 'ETH-USDT'];

  /** Keeps every metric moving, with the label values the components use. */
  function observe(): void {
    tick += 1;
    for (let p = 0; p < 4; p++) {
      const partition = String(p);
      worker.lag.set({ partition }, 100 + ((tick * 7 + p) % 50));
      worker.mailboxDepth.set({ partition }, (tick + p) % 8);
      worker.pendingRows.set({ partition }, 10 * p + (tick % 10));
      worker.paused.set({ partition }, p % 2);
      worker.pausedSeconds.inc({ partition }, p % 2 ? 0.25 : 0.01);
    }
    worker.owned.set(4);
    for (const outcome of ['accepted', 'revised', 'duplicate', 'late', 'rejected', 'undecodable']) {
      worker.trades.inc({ outcome }, outcome === 'accepted' ? 50 : 1);
    }
    worker.candles.inc({ kind: 'closed' }, 3);
    worker.candles.inc({ kind: 'revised' });
    worker.alerts.inc();
    worker.checkpointSeconds.observe(0.004 + (tick % 5) / 100);
    worker.checkpointBytes.observe(20_000 + tick * 10);
    worker.commitErrors.inc({ code: 'TM_UNAVAILABLE' });
    for (const output of ['bus', 'cache', 'log']) worker.outputErrors.inc({ output });
    handoffPause.observe(0.08 + (tick % 3) / 100);
    for (const kind of ['new', 'handoff', 'orphan']) takeover.observe({ kind }, 0.3 + (tick % 5) / 10);
    worker.eventToPublish.observe(0.2 + (tick % 3) / 10);
    worker.appendToPublish.observe(0.003 + (tick % 4) / 1000);
    for (const status of ['verified', 'mismatch', 'unverifiable']) {
      verification.verifications.inc({ exchange: 'binance', interval: '1m', status }, status === 'verified' ? 3 : 1);
    }

    for (const venue of venues) {
      ingest.messages.labels(venue).inc(20);
      ingest.connections.set({ venue }, 1);
      ingest.queueDepth.set({ venue }, tick % 5);
      ingest.latency(venue).observe(0.03 + (tick % 4) / 100);
      ingest.reconnects.inc({ venue, reason: 'stale' });
      for (const reason of REJECT_REASONS) ingest.reject(venue, reason);
      for (const market of markets) {
        const m = ingest.market(venue, market);
        m.trades.inc(20);
        m.duplicates.inc();
        m.gaps.inc();
        m.backfilled.inc(5);
        m.unrecovered.inc();
      }
    }
    ingest.sinkInFlight.set(tick % 100);

    operator.leader.set(1);
    operator.members.set(3);
    operator.countSpread.set(1);
    operator.loadRatio.set(1.1);
    operator.epoch.set(tick);
    operator.version.set(tick);
    operator.rebalances.inc({ trigger: 'membership' });
    for (const reason of ['orphan', 'balance', 'load']) operator.partitionsMoved.inc({ reason });
    operator.publishSeconds.observe(0.15);
    operator.settleSeconds.observe(1.2);
    operator.publishErrors.inc({ target: 'mirror' });
    for (const partition of ['0', '1']) {
      operator.partitionRate.set({ partition }, 100 + tick);
      operator.partitionLag.set({ partition }, tick % 5);
    }
    operator.pausedPartitions.set(tick % 2);
    operator.autoscaleReplicas.set(2 + (tick % 2));
    operator.autoscaleChanges.inc({ reason: 'lag' });

    // Routes as Fastify reports them (routeOptions.url), probes included as in production.
    for (const [route, status] of [
      ['/api/v1/candles', '200'],
      ['/api/v1/markets', '200'],
      ['/api/v1/alerts', '400'],
      ['/api/v1/prices/latest', '503'],
      ['/healthz', '200'],
      ['/metrics', '200'],
    ] as const) {
      api.requests.inc({ route, method: 'GET', status });
      api.requestSeconds.observe({ route }, 0.002 + (tick % 7) / 1000);
    }
    api.streamConnections.set(3 + (tick % 2));
    for (const topic of ['candle', 'alert', 'index']) api.streamMessages.inc({ topic }, 10);
    api.streamDropped.inc();
    api.streamDuplicates.inc();
    api.streamClosedSlow.inc();
    api.streamUndecodable.inc();

    // Real produce requests, so that the producers' latency histograms hold real acknowledgements.
    if (sends.length < 8) {
      for (const producer of producers) {
        const sent = producer
          .send(topic, [{ key: 'binance:BTCUSDT', value: new TextEncoder().encode(`tick ${tick}`) }])
          .catch(() => undefined);
        sends.push(sent);
        void sent.finally(() => {
          sends = sends.filter((s) => s !== sent);
        });
      }
    }
  }

  async function serve(registry: Registry, pod: string): Promise<void> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const { port } = server.address() as AddressInfo;
    // The labels the Prometheus operator puts on a ServiceMonitor's targets, as far as the dashboards use them.
    const target = { targets: [`127.0.0.1:${port}`], labels: { job: namespace, namespace, pod } };
    const file = join(endpoint('PROMETHEUS_SD_DIR'), `${pod}.json`);
    await writeFile(`${file}.tmp`, JSON.stringify([target]));
    await rename(`${file}.tmp`, file);
    sdFiles.push(file);
  }

  beforeAll(async () => {
    const brokers = endpoint('KAFKA_BROKERS').split(',');
    const admin = await createKafkaAdmin({ brokers, clientId: `${namespace}-admin`, logger: silentLogger() });
    await admin.ensureTopic(topic, 1);
    await admin.close();
    for (const [registry, role] of [
      [workerRegistry, 'worker'],
      [ingestRegistry, 'ingest'],
    ] as const) {
      producers.push(
        await createKafkaProducer({ brokers, clientId: `${namespace}-${role}`, logger: silentLogger(), registry }),
      );
    }
    observe();
    ticker = setInterval(observe, 250);
    await serve(workerRegistry, `${namespace}-worker-0`);
    await serve(ingestRegistry, `${namespace}-ingest-0`);
    await serve(operatorRegistry, `${namespace}-operator-0`);
    await serve(apiRegistry, `${namespace}-api-0`);
    exported = await exportedNames(registries);
  });

  afterAll(async () => {
    if (ticker) clearInterval(ticker);
    await Promise.allSettled(sends);
    await Promise.allSettled(producers.map((p) => p.close()));
    for (const f of sdFiles) await rm(f, { force: true });
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    const admin = createKafkaClient({
      brokers: endpoint('KAFKA_BROKERS').split(','),
      clientId: `${namespace}-cleanup`,
      logger: silentLogger(),
    }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('finds the dashboards, each with a unique uid, unique panel ids and panels inside the 24-column grid', () => {
    expect(allDashboards.map(([f]) => f)).toEqual(['tickmesh-market.json', 'tickmesh-operations.json']);
    expect(dashboards.map(([f]) => f)).toEqual(['tickmesh-operations.json']);
    expect(new Set(allDashboards.map(([, d]) => d.uid)).size).toBe(allDashboards.length);
    for (const [file, d] of dashboards) {
      const panels = allPanels(d.panels);
      expect(new Set(panels.map((p) => p.id)).size, file).toBe(panels.length);
      for (const p of panels) {
        expect(p.gridPos.x + p.gridPos.w, `${file} ${p.title}`).toBeLessThanOrEqual(24);
        if (p.type !== 'row')
          expect(p.datasource, `${file} ${p.title}`).toEqual({ type: 'prometheus', uid: GRAFANA_DATASOURCE });
      }
      expect(d.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(['datasource', 'namespace']));
    }
  });

  it('names in every query only metrics that a component registers, each selected by namespace', () => {
    const problems = dashboards.flatMap(([file, d]) =>
      queriesOf(file, d).flatMap((q) => staticProblems(q.expr, exported).map((p) => `${q.where}: ${p}`)),
    );
    expect(problems).toEqual([]);
  });

  it('runs every panel query on Prometheus: it parses and returns finite values', async () => {
    const queries = dashboards.flatMap(([file, d]) =>
      queriesOf(file, d).map((q) => ({ where: q.where, expr: concrete(q.expr, values) })),
    );
    expect(queries.length).toBeGreaterThan(40);
    expect(await checkAll(queries, 90_000)).toEqual([]);
  });

  it('answers every template variable query from the scraped series', async () => {
    const expected: Record<string, string[]> = { namespace: [namespace], venue: venues, market: markets };
    let checked = 0;
    for (const [file, d] of dashboards) {
      for (const v of d.templating.list.filter((x) => x.type === 'query')) {
        const query = variableQuery(v) ?? '';
        const m = /^label_values\((.+),\s*(\w+)\)$/.exec(query);
        expect(m, `${file} variable ${v.name}: ${query}`).not.toBeNull();
        const [, selector, label] = m as unknown as [string, string, string];
        const series = concrete(selector, values);
        // The namespace variable lists every namespace; the others are scoped to this test's.
        const body = await prometheus(`/api/v1/label/${label}/values`, {
          'match[]': series,
          start: String(Date.now() / 1000 - 300),
        });
        expect(body.status, `${file} variable ${v.name}: ${body.error}`).toBe('success');
        expect(body.data as string[], `${file} variable ${v.name}`).toEqual(
          expect.arrayContaining(expected[v.name] ?? ['(no expectation)']),
        );
        checked += 1;
      }
    }
    expect(checked).toBe(3);
  });

  it('fails a query that names a metric no component exports, statically and on Prometheus', async () => {
    const expr = 'sum(rate(tickmesh_worker_no_such_metric_total{namespace="$namespace"}[$__rate_interval]))';
    expect(staticProblems(expr, exported)).toEqual([
      'tickmesh_worker_no_such_metric_total is not exported by any component',
    ]);
    expect(staticProblems('sum(up{job="x"})', exported)).toEqual([
      'up is not exported by any component',
      'up{job="x"} does not select $namespace',
    ]);
    const failures = await checkAll([{ where: 'probe', expr: concrete(expr, values) }], 3_000);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('no series');
    expect(() => concrete('rate(x{a="$nope"}[1m])', values)).toThrow('$nope is not a variable');
  });
});
