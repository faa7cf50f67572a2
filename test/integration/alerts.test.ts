import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { Bus } from '../../internal/bus/bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { CANDLES_STREAM, candleSubject } from '../../internal/bus/subject-names.js';
import { type LocalBinance, startLocalBinance } from '../../internal/ingest/testing/local-binance.js';
import { tradeRecord } from '../../internal/log/record.js';
import type { Trade } from '../../internal/market/trade.js';
import { candle } from '../contracts/store-contract.js';
import { Proc } from '../e2e/cluster-support.js';
import { endpoint, freshName } from '../harness/env.js';
import { freePort } from '../harness/private-servers.js';
import { queryPrometheus } from '../harness/prometheus.js';
import { startTcpProxy, type TcpProxy, throughProxy } from '../harness/tcp-proxy.js';
import { createTradeTopics } from '../harness/worker-tables.js';
import { ContextStandIn } from '../support/context-stand-in.js';
import { freshTopics } from './ingest-support.js';
import { freshNamespace, kubeConfig } from './operator-support.js';

/**
 * The alerting rules of deploy/helm/tickmesh/files/alerts.yaml on the harness's real Prometheus,
 * each made to fire by a real fault in real tickmesh processes: an exchange stand-in that sends
 * garbage, skips trade ids and goes silent; a second one where one market stops while the other
 * trades on; a news feed that never has a new item; PostgreSQL cut away from a worker and from the API
 * (a TCP forwarder the test resets); the Kubernetes API cut away from the operator; a WebSocket
 * client that stops reading; a process killed. Every series carries this file's own `job` label,
 * so other tests' processes on the same Prometheus cannot fire or hide these alerts.
 */

const run = promisify(execFile);
const RULES = 'deploy/helm/tickmesh/files/alerts.yaml';
const JOB = freshName('tickmesh-alerts');
const FIRING_WITHIN_MS = 180_000;

/** The firing alerts named `name` of this file's process `process`, once there is at least one. */
async function firing(name: string, process: string): Promise<Array<Record<string, string>>> {
  return vi.waitFor(
    async () => {
      const alerts = await queryPrometheus(
        `ALERTS{alertname="${name}", alertstate="firing", job="${JOB}", process="${process}"}`,
      );
      if (alerts.length === 0) throw new Error(`${name} is not firing for ${process}`);
      return alerts.map((a) => a.metric);
    },
    { timeout: FIRING_WITHIN_MS, interval: 500 },
  );
}

/** Prometheus scrapes each target of the file_sd file every second, all under this file's job. */
async function scrape(sdFile: string, targets: Record<string, number>): Promise<void> {
  const groups = Object.entries(targets).map(([process, port]) => ({
    targets: [`127.0.0.1:${port}`],
    labels: { job: JOB, process },
  }));
  await writeFile(`${sdFile}.tmp`, JSON.stringify(groups));
  await rename(`${sdFile}.tmp`, sdFile);
}

/** Trades of `symbol` dated now, ids from `first`, for the worker's topic. */
function liveTrades(symbol: string, first: number, n: number): Trade[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    exchange: 'binance-futures',
    symbol,
    market: `${symbol.replace('USDT', '')}-USDT`,
    tradeId: String(first + i),
    price: (100 + (i % 7)).toFixed(2),
    size: '0.5',
    side: i % 2 === 0 ? 'buy' : 'sell',
    eventTime: now - 50,
    receiveTime: now - 40,
  }));
}

describe('alerting rules on the real Prometheus, fired by real faults', () => {
  const rulesFile = join(endpoint('PROMETHEUS_RULES_DIR'), 'tickmesh-alerts.yaml');
  const sdFile = join(endpoint('PROMETHEUS_SD_DIR'), `${JOB}.json`);
  const procs: Proc[] = [];
  const proxies: TcpProxy[] = [];
  const stop = new AbortController();
  let exchange: LocalBinance | undefined;
  let marketExchange: LocalBinance | undefined;
  let feed: ContextStandIn | undefined;
  let namespace: { name: string; delete(): Promise<void> } | undefined;
  let bus: Bus | undefined;
  let apiUrl = '';
  let ingest: Proc;
  let producing: Promise<void> = Promise.resolve();
  let requesting: Promise<void> = Promise.resolve();
  let tmpDir = '';
  const faultsSeen = Promise.withResolvers<void>();
  const marketSeen = Promise.withResolvers<void>();

  const pg = () => {
    const u = new URL(endpoint('DATABASE_URL'));
    return { host: u.hostname, port: Number(u.port || 5432) };
  };

  beforeAll(async () => {
    // The rules, as the chart ships them, loaded by a reload (the same file every run writes).
    await copyFile(RULES, `${rulesFile}.tmp`);
    await rename(`${rulesFile}.tmp`, rulesFile);
    const reloaded = await fetch(new URL('/-/reload', endpoint('PROMETHEUS_URL')), { method: 'POST' });
    expect(reloaded.status).toBe(200);

    const env = { ...process.env, LOG_LEVEL: 'info' };
    const ports = {
      ingest: await freePort(),
      worker: await freePort(),
      cacheWorker: await freePort(),
      operator: await freePort(),
      api: await freePort(),
      marketIngest: await freePort(),
    };

    // Ingest from a Binance stand-in: 150 trades; then, once Prometheus has seen ingest's
    // counters, 150 more after 40 missing ids, with 20 garbage frames among them; then silence on
    // an open connection. No REST backfill: the gap stays unrecovered.
    const now = Date.now() - 5_000;
    const tape: Trade[] = Array.from({ length: 400 }, (_, i) => ({
      exchange: 'binance-futures',
      symbol: 'BTCUSDT',
      market: 'BTC-USDT',
      tradeId: String(1_000 + i),
      price: '67000.5',
      size: '0.01',
      side: 'buy',
      eventTime: now + i,
      receiveTime: now + i,
    }));
    const send = [...Array.from({ length: 150 }, (_, i) => i), ...Array.from({ length: 150 }, (_, i) => 190 + i)];
    const garbage = '{"stream":"btcusdt@trade","data":{"e":"trade","p":"NaN"}}';
    const inject = new Map(Array.from({ length: 20 }, (_, i) => [152 + i * 7, garbage]));
    exchange = await startLocalBinance({
      trades: tape,
      script: (n) =>
        n === 1 ? { send, inject, holds: new Map([[150, faultsSeen.promise]]), after: 'silent' } : undefined,
    });
    const topics = await freshTopics(1);
    ingest = new Proc(
      'ingest',
      [
        'ingest',
        ...['--venue', 'binance-futures', '--symbols', 'BTCUSDT', '--ws-url', exchange.wsUrl, '--rest-url', ''],
        ...['--stale-after', '0', '--metrics-port', String(ports.ingest)],
        ...['--trades-topic', topics.trades, '--rejects-topic', topics.rejects, '--gaps-topic', topics.gaps],
        '--no-klines',
      ],
      env,
    );
    procs.push(ingest);

    // A second ingest: once Prometheus scrapes it, BTCUSDT trades once a second throughout;
    // ETHUSDT trades 1,600 times in 20 s (far over a trade every 5 s averaged over the hour) and
    // then stops; and a news feed that answers a channel without items, stale 3 s after the start.
    const start = Date.now();
    const eth = Array.from({ length: 1_600 }, (_, i) => ({ id: 9_000 + i, at: i * 12.5, symbol: 'ETHUSDT' }));
    const btc = Array.from({ length: 400 }, (_, i) => ({ id: 5_000 + i, at: i * 1_000, symbol: 'BTCUSDT' }));
    const paced = [...eth, ...btc].sort((a, b) => a.at - b.at);
    marketExchange = await startLocalBinance({
      trades: paced.map(({ id, at, symbol }) => ({
        exchange: 'binance-futures',
        symbol,
        market: `${symbol.replace('USDT', '')}-USDT`,
        tradeId: String(id),
        price: '100.5',
        size: '0.01',
        side: 'buy',
        eventTime: start + at,
        receiveTime: start + at,
      })),
      script: (n) =>
        n === 1
          ? {
              send: paced.map((_, i) => i),
              holds: new Map(
                paced.map(({ at }, i) => [
                  i,
                  marketSeen.promise.then(() => new Promise((resolve) => setTimeout(resolve, at).unref())),
                ]),
              ),
              burst: 1,
              after: 'silent',
            }
          : undefined,
    });
    feed = await new ContextStandIn().start();
    feed.script('/feed', {
      headers: { 'content-type': 'application/rss+xml' },
      body: '<?xml version="1.0"?><rss version="2.0"><channel><title>quiet</title></channel></rss>',
    });
    tmpDir = await mkdtemp(join(tmpdir(), 'alerts-'));
    const ingestConfig = join(tmpDir, 'ingest.json');
    await writeFile(
      ingestConfig,
      JSON.stringify({
        venues: [
          { venue: 'binance-futures', symbols: ['BTCUSDT', 'ETHUSDT'], wsUrl: marketExchange.wsUrl, restUrl: '' },
        ],
        sources: [
          {
            kind: 'news',
            source: 'rss',
            name: 'alerts-feed',
            url: `${feed.url}/feed`,
            intervalSeconds: 1,
            staleAfterSeconds: 3,
          },
        ],
      }),
    );
    const marketTopics = await freshTopics(1);
    procs.push(
      new Proc(
        'marketIngest',
        [
          'ingest',
          ...['--config', ingestConfig, '--stale-after', '0', '--metrics-port', String(ports.marketIngest)],
          ...['--trades-topic', marketTopics.trades, '--rejects-topic', marketTopics.rejects],
          ...['--gaps-topic', marketTopics.gaps, '--no-klines'],
        ],
        env,
      ),
    );

    // A worker on its own topic, fed live trades by this test, with PostgreSQL behind a forwarder.
    const topic = freshName('alerts-trades');
    const kafka = new Kafka({
      clientId: 'alerts-test',
      brokers: endpoint('KAFKA_BROKERS').split(','),
      logLevel: logLevel.NOTHING,
    });
    await createTradeTopics(kafka, topic, 1);
    const workerDb = await startTcpProxy(pg());
    proxies.push(workerDb);
    const worker = new Proc(
      'worker',
      [
        'worker',
        ...['--topic', topic, '--schema', freshName('alerts_w').replaceAll('-', '_'), '--port', String(ports.worker)],
        ...['--late-topic', `${topic}.late`, '--rejected-topic', `${topic}.rejected`, '--intervals', '1m'],
        ...['--checkpoint-interval-ms', '100', '--max-pending-rows', '200'],
      ],
      { ...env, DATABASE_URL: throughProxy(endpoint('DATABASE_URL'), workerDb) },
    );
    procs.push(worker);
    // A second worker of the same topic (its own schema), with Redis behind a forwarder.
    const redis = new URL(endpoint('REDIS_URL'));
    const workerCache = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    proxies.push(workerCache);
    const cacheWorker = new Proc(
      'cacheWorker',
      [
        'worker',
        ...[
          '--topic',
          topic,
          '--schema',
          freshName('alerts_c').replaceAll('-', '_'),
          '--port',
          String(ports.cacheWorker),
        ],
        ...['--late-topic', `${topic}.late`, '--rejected-topic', `${topic}.rejected`, '--intervals', '1m'],
        ...['--live-cache-interval-ms', '0', '--index-actors', 'false'],
      ],
      { ...env, REDIS_URL: throughProxy(endpoint('REDIS_URL'), workerCache) },
    );
    procs.push(cacheWorker);
    const producer = kafka.producer();
    await producer.connect();
    producing = (async () => {
      let id = 1;
      while (!stop.signal.aborted) {
        const trades = [...liveTrades('BTCUSDT', id, 20), ...liveTrades('ETHUSDT', id, 20)];
        id += 20;
        await producer.send({
          topic,
          messages: trades
            .map((t) => tradeRecord(t))
            .map((r) => ({ key: r.key, value: Buffer.from(r.value), headers: { ...r.headers } })),
        });
        await new Promise((r) => setTimeout(r, 20));
      }
      await producer.disconnect();
    })();

    // The API with PostgreSQL behind another forwarder; a bus to flood its stream from.
    const apiDb = await startTcpProxy(pg());
    proxies.push(apiDb);
    const api = new Proc(
      'api',
      [
        'api',
        ...['--port', '0', '--metrics-port', String(ports.api), '--host', '127.0.0.1'],
        ...['--schema', freshName('alerts_a').replaceAll('-', '_')],
        ...['--slow-client-ms', '500', '--stream-buffer', '100'],
        // Its 5xx rate is what is measured: 10 requests a second, none of them refused as too many.
        ...['--rate-limit-per-minute', '0'],
      ],
      { ...env, DATABASE_URL: throughProxy(endpoint('DATABASE_URL'), apiDb) },
    );
    procs.push(api);
    apiUrl = String((await api.waitFor('api listening', (l) => typeof l.url === 'string', 60_000)).url);
    bus = await createNatsBus({ servers: endpoint('NATS_URL'), name: 'alerts-test' });
    await bus.ensureStream(CANDLES_STREAM);

    // The operator with the Kubernetes API behind a forwarder, on a Lease of its own namespace.
    const kc = kubeConfig();
    namespace = await freshNamespace(kc, 'alerts');
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the harness kubeconfig has no cluster');
    const apiServer = new URL(cluster.server);
    const kube = await startTcpProxy({ host: apiServer.hostname, port: Number(apiServer.port || 443) });
    proxies.push(kube);
    const kubeconfig = join(tmpDir, 'config');
    const original = await readFile(endpoint('KUBECONFIG'), 'utf8');
    await writeFile(kubeconfig, original.replaceAll(cluster.server, `https://127.0.0.1:${kube.port}`));
    const operator = new Proc(
      'operator',
      [
        'operator',
        ...['--kubeconfig', kubeconfig, '--namespace', namespace.name, '--partitions', '2'],
        ...['--selector', 'app.kubernetes.io/name=tickmesh-alerts-none', '--metrics-port', String(ports.operator)],
        ...['--lease-duration', '3', '--renew-deadline', '2000', '--retry-period', '500'],
      ],
      { ...env, NATS_URL: '' },
    );
    procs.push(operator);

    await scrape(sdFile, ports);
    await worker.waitFor('worker running', (l) => l.msg === 'worker running', 60_000);
    await cacheWorker.waitFor('worker running', (l) => l.msg === 'worker running', 60_000);
    await vi.waitFor(
      async () => {
        if ((await queryPrometheus(`tickmesh_operator_leader{job="${JOB}"} == 1`)).length === 0)
          throw new Error('no leader yet');
        if ((await queryPrometheus(`tickmesh_worker_candles_committed_total{job="${JOB}"} > 0`)).length === 0)
          throw new Error('no commit yet');
      },
      { timeout: 90_000, interval: 500 },
    );

    // The faults: the venue's gap, garbage and silence once ingest's counters were scraped at 0
    // (a rate misses the first count of a series that appears already counting).
    await vi.waitFor(
      async () => {
        if (
          (await queryPrometheus(`tickmesh_ingest_gap_trades_total{job="${JOB}", outcome="unrecovered"} == 0`))
            .length === 0
        )
          throw new Error('ingest not scraped yet');
        if (
          (await queryPrometheus(`tickmesh_ingest_rejects_total{job="${JOB}", reason="bad-price"} == 0`)).length === 0
        )
          throw new Error('ingest not scraped yet');
      },
      { timeout: 60_000, interval: 500 },
    );
    faultsSeen.resolve();
    // The second ingest's markets appear with their first trades: after its first scrape, so that
    // the rate of ETH-USDT's trades counts them all.
    await vi.waitFor(
      async () => {
        if ((await queryPrometheus(`up{job="${JOB}", process="marketIngest"} == 1`)).length === 0)
          throw new Error('marketIngest not scraped yet');
      },
      { timeout: 60_000, interval: 500 },
    );
    marketSeen.resolve();
    await workerDb.cut();
    await workerCache.cut();
    await apiDb.cut();
    await kube.cut();
    requesting = (async () => {
      while (!stop.signal.aborted) {
        await fetch(`${apiUrl}/api/v1/candles?exchange=binance-futures&symbol=BTCUSDT&interval=1m`).catch(
          () => undefined,
        );
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  }, 240_000);

  afterAll(async () => {
    stop.abort();
    await Promise.allSettled([producing, requesting]);
    await rm(sdFile, { force: true });
    for (const p of procs) p.kill('SIGKILL');
    for (const p of proxies) await p.close();
    await exchange?.close();
    await marketExchange?.close();
    await feed?.close();
    await bus?.close();
    await namespace?.delete();
    if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
  });

  it('the rules pass promtool check and their own unit tests', async () => {
    const check = await run('promtool', ['check', 'rules', RULES]);
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const tests = await run('promtool', ['test', 'rules', 'alerts.test.yaml'], {
      cwd: 'deploy/helm/tickmesh/files',
    });
    expect(tests.stdout).toContain('SUCCESS');
  });

  it('TickmeshTradesLost: trade ids skipped and not backfilled', async () => {
    const [a] = await firing('TickmeshTradesLost', 'ingest');
    expect(a).toMatchObject({ venue: 'binance-futures', severity: 'critical', process: 'ingest' });
  });

  it('TickmeshIngestRejecting: garbage frames from the venue', async () => {
    const [a] = await firing('TickmeshIngestRejecting', 'ingest');
    expect(a).toMatchObject({ venue: 'binance-futures', process: 'ingest' });
  });

  it('TickmeshCommitFailing: PostgreSQL cut away from the worker', async () => {
    const [a] = await firing('TickmeshCommitFailing', 'worker');
    expect(a).toMatchObject({ process: 'worker', role: 'worker' });
  });

  it('TickmeshConsumerLagGrowing: the topic grows while the stuck worker reads nothing', async () => {
    const [a] = await firing('TickmeshConsumerLagGrowing', 'worker');
    expect(a).toMatchObject({ process: 'worker', partition: '0', severity: 'warning' });
  });

  it('TickmeshOutputFailing: Redis cut away from a worker', async () => {
    const [a] = await firing('TickmeshOutputFailing', 'cacheWorker');
    expect(a).toMatchObject({ process: 'cacheWorker', role: 'worker' });
  });

  it('TickmeshPartitionPaused: the worker holds its partition while nothing commits', async () => {
    const [a] = await firing('TickmeshPartitionPaused', 'worker');
    expect(a).toMatchObject({ process: 'worker', partition: '0' });
  });

  it('TickmeshApiErrors: the API answers 5xx without its database', async () => {
    const [a] = await firing('TickmeshApiErrors', 'api');
    expect(a).toMatchObject({ process: 'api' });
  });

  it('TickmeshStreamDrops: a WebSocket client that stops reading', async () => {
    const ws = new WebSocket(`${apiUrl.replace('http', 'ws')}/api/v1/stream`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const market = freshName('ex');
    ws.send(JSON.stringify({ subscribe: { candles: { interval: '1m', exchange: market } } }));
    await new Promise((resolve) => ws.once('message', resolve));
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const encoder = new TextEncoder();
    const padding = 'x'.repeat(2_000);
    for (let i = 0; i < 8_000; i++) {
      const c = candle({ exchange: market, closed: false, trades: i + 1, firstTradeId: padding });
      bus?.publish(candleSubject('partial', c), encoder.encode(JSON.stringify(c)));
      if (i % 500 === 0) await bus?.flush();
    }
    await bus?.flush();
    const [a] = await firing('TickmeshStreamDrops', 'api');
    expect(a).toMatchObject({ process: 'api', severity: 'info' });
    ws.terminate();
  });

  it('TickmeshNoOperatorLeader: the Kubernetes API cut away from the operator', async () => {
    const [a] = await firing('TickmeshNoOperatorLeader', 'operator');
    expect(a).toMatchObject({ role: 'operator', severity: 'critical' });
  });

  it('TickmeshFeedSilent: the venue stopped sending', async () => {
    const [a] = await firing('TickmeshFeedSilent', 'ingest');
    expect(a).toMatchObject({ venue: 'binance-futures', process: 'ingest' });
  });

  it('TickmeshMarketSilent: one market stops while the rest of its venue trades', async () => {
    const alerts = await firing('TickmeshMarketSilent', 'marketIngest');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ venue: 'binance-futures', market: 'ETH-USDT', severity: 'warning' });
  });

  it('TickmeshContextSourceStale: a news feed with nothing new', async () => {
    const [a] = await firing('TickmeshContextSourceStale', 'marketIngest');
    expect(a).toMatchObject({ source: 'alerts-feed', severity: 'warning' });
    expect(feed?.hits('/feed').length).toBeGreaterThan(3);
  });

  it('TickmeshNotReady: the worker cannot commit', async () => {
    const [a] = await firing('TickmeshNotReady', 'worker');
    expect(a).toMatchObject({ role: 'worker', severity: 'warning' });
  });

  it('TickmeshProcessDown: a process killed', async () => {
    ingest.kill('SIGKILL');
    const [a] = await firing('TickmeshProcessDown', 'ingest');
    expect(a).toMatchObject({ process: 'ingest', severity: 'critical' });
  });
});
