import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { range, startLocalBinance } from '../../internal/ingest/testing/local-binance.js';
import type { Trade } from '../../internal/market/trade.js';
import { serverCertFor } from '../harness/certs.js';
import { type ConnectProxy, startConnectProxy } from '../harness/connect-proxy.js';
import { endpoint } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { loadRealTrades } from '../support/real-trades.js';
import { freshTopics, readTrades, runIngest } from './ingest-support.js';

// Ingest behind an HTTP proxy: the venue stand-in is reachable under a name that only the
// CONNECT proxy (test/harness/connect-proxy.ts) resolves, behind TLS with a certificate for that
// name, so a trade in Kafka proves that both the WebSocket and the REST backfill went through
// the proxy's tunnels, and TLS to the venue was verified inside them.

const N = 2_000;
const VENUE_HOST = 'venue.tickmesh.test';
let trades: Trade[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  trades = (await loadRealTrades()).slice(0, N);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** TLS in front of a plain local port, with the certificate of `cert`. */
async function tlsFront(cert: { cert: string; key: string }, plainPort: number): Promise<number> {
  const server: TlsServer = createTlsServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, (s) => {
    const upstream = netConnect(plainPort, '127.0.0.1');
    s.pipe(upstream).pipe(s);
    s.on('error', () => upstream.destroy());
    upstream.on('error', () => s.destroy());
    s.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

async function proxy(hosts: Record<string, string> = {}): Promise<ConnectProxy> {
  const p = await startConnectProxy(hosts);
  cleanups.push(() => p.close());
  return p;
}

describe('ingest through an HTTPS proxy', () => {
  it('`tickmesh ingest` with HTTPS_PROXY: WebSocket and REST backfill only through CONNECT tunnels', async () => {
    // Connection 1 sends 0..999 and drops; connection 2 resumes at 1400: 1000..1399 come from REST.
    const ex = await startLocalBinance({
      trades,
      script: (n) => (n === 1 ? { send: range(0, 1000), after: 'drop' } : { send: range(1400, N), after: 'silent' }),
    });
    cleanups.push(() => ex.close());
    const cert = serverCertFor(VENUE_HOST);
    const tlsPort = await tlsFront(cert, new URL(ex.restUrl).port ? Number(new URL(ex.restUrl).port) : 80);
    const p = await proxy({ [VENUE_HOST]: '127.0.0.1' });
    const topics = await freshTopics();
    const dir = mkdtempSync(join(tmpdir(), 'tickmesh-proxy-'));
    const config = join(dir, 'venues.json');
    const origin = `${VENUE_HOST}:${tlsPort}`;
    writeFileSync(
      config,
      JSON.stringify({
        venues: [
          {
            venue: 'binance-futures',
            symbols: ['BTCUSDT'],
            wsUrl: `wss://${origin}`,
            restUrl: `https://${origin}`,
          },
        ],
      }),
    );
    const child: ChildProcess = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'cmd/tickmesh/main.ts', 'ingest', '--config', config, '--metrics-port', '0'],
        ...['--trades-topic', topics.trades, '--rejects-topic', topics.rejects, '--gaps-topic', topics.gaps],
        '--no-klines',
        ...['--resume-tail', '0'],
      ],
      {
        env: {
          ...process.env,
          KAFKA_BROKERS: endpoint('KAFKA_BROKERS'),
          HTTPS_PROXY: p.url,
          // The venue's certificate is from a CA of this test's own.
          NODE_EXTRA_CA_CERTS: cert.ca,
          NO_PROXY: 'localhost,127.0.0.1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    });

    await eventually(
      'every trade in Kafka',
      async () => {
        expect(child.exitCode, output.slice(-2000)).toBeNull();
        return (await readTrades(topics.trades)).length >= N ? true : undefined;
      },
      60_000,
      500,
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const ids = (await readTrades(topics.trades)).map((r) => r.trade.tradeId);
    expect(ids).toEqual(trades.map((t) => t.tradeId));
    // Two WebSocket connections and at least one REST call, every one a tunnel to the venue's
    // name (which nothing but the proxy resolves); the proxy never saw plain HTTP.
    expect(ex.connections).toBe(2);
    expect(ex.restRequests.length).toBeGreaterThan(0);
    expect([...p.tunnels.keys()]).toEqual([origin]);
    expect(p.tunnels.get(origin)).toBeGreaterThanOrEqual(3);
    expect(p.plainRequests).toBe(0);
  }, 120_000);

  it('NO_PROXY hosts are reached directly, the others through the proxy (HTTP_PROXY for ws://)', async () => {
    const tape = trades.slice(0, 500);
    for (const noProxy of [undefined, '127.0.0.1']) {
      const ex = await startLocalBinance({
        trades: tape,
        script: (n) => (n === 1 ? { send: range(0, tape.length), after: 'silent' } : undefined),
      });
      cleanups.push(() => ex.close());
      const p = await proxy();
      const topics = await freshTopics();
      await runIngest(
        {
          venues: [{ venue: 'binance-futures', symbols: ['BTCUSDT'], wsUrl: ex.wsUrl, restUrl: ex.restUrl }],
          topics,
          feed: { reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 100 },
          proxy: { httpProxy: p.url, ...(noProxy ? { noProxy } : {}) },
        },
        tape.length,
      );
      expect((await readTrades(topics.trades)).length, `NO_PROXY=${noProxy}`).toBe(tape.length);
      const tunnels = [...p.tunnels.values()].reduce((a, b) => a + b, 0);
      expect(tunnels, `NO_PROXY=${noProxy}`).toBe(noProxy ? 0 : 1);
    }
  }, 60_000);
});
