import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiKey } from '../../internal/serve/api-keys.js';
import type { Cache } from '../../internal/sink/cache.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { createRedisCache } from '../../internal/sink/redis-cache.js';
import type { Store } from '../../internal/sink/store.js';
import { alert, candle, indicators, prediction } from '../contracts/store-contract.js';
import { type ApiProcess, startApiProcess } from '../harness/api-process.js';
import { endpoint, freshName } from '../harness/env.js';
import { leaseRedisDb, type RedisDbLease } from '../harness/redis-db.js';

// schemathesis (test/infra/schemathesis.sh) fuzzes `tickmesh api` as a process on the real
// PostgreSQL, Redis and NATS from the API's own OpenAPI document, with a key: no answer may be a
// 5xx, and every answer must be a status the document lists, of its media type, matching its schema.
const schema = freshName('fuzz').replaceAll('-', '_');
const exchange = freshName('fz');
const symbol = 'BTCUSDT';
const T0 = Date.UTC(2024, 0, 31, 23, 50);
let store: Store;
let cache: Cache;
let redis: RedisDbLease | undefined;
let api: ApiProcess;
let dir: string;
const { key, line } = newApiKey('schemathesis');

beforeAll(async () => {
  store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema });
  await store.migrate();
  // Rows across a month boundary (two partitions), with the records' every optional part.
  const market = { exchange, symbol, market: 'BTC-USDT' };
  const cs = Array.from({ length: 20 }, (_, i) => candle({ ...market, openTime: T0 + i * 60_000 }));
  await store.commit({
    topic: freshName('t'),
    partition: 0,
    epoch: 1,
    nextOffset: 1n,
    state: new Uint8Array(),
    candles: cs,
    alerts: [
      alert({ ...market, id: freshName('a'), time: T0 }),
      alert({ ...market, id: freshName('w'), kind: 'whale_trade', interval: undefined, time: T0 + 1 }),
    ],
    indicators: cs.map((c, i) => indicators(c, { sma: { '5': i < 4 ? null : 42_000.5 } })),
    predictions: cs.slice(0, 5).map((c) => prediction({ ...market, openTime: c.openTime })),
  });
  // A Redis database of this test's own: the API process reads it with the default key prefix,
  // under which other tests' workers write in the shared database (latest candles, references).
  redis = await leaseRedisDb();
  cache = createRedisCache({ url: redis.url });
  await cache.putCandles([candle({ ...market, openTime: T0 + 20 * 60_000, closed: false })]);
  await cache.putIndicators([indicators(cs.at(-1) as ReturnType<typeof candle>)]);
  await cache.putPrices([{ ...market, price: '42005.25', time: T0 + 20 * 60_000 + 5, tradeId: '1017' }]);

  dir = await mkdtemp(join(tmpdir(), 'api-fuzz-'));
  await writeFile(join(dir, 'api-keys'), `${line}\n`);
  api = await startApiProcess(['--schema', schema, '--rate-limit-per-minute', '0'], {
    TICKMESH_API_KEYS_FILE: join(dir, 'api-keys'),
    REDIS_URL: redis.url,
  });
}, 60_000);

afterAll(async () => {
  api?.child.kill('SIGKILL');
  await cache?.close();
  await redis?.release();
  await store?.close();
  const pool = new Pool({ connectionString: endpoint('DATABASE_URL'), max: 1 });
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Parameter {
  name: string;
  in: string;
  schema?: Record<string, unknown>;
  example?: unknown;
}

/**
 * The served document with examples naming the seeded market, written beside the keys: the
 * examples phase then asks for rows that exist, so full answers are checked, not only empty ones.
 */
async function documentWithExamples(): Promise<string> {
  const res = await fetch(`${api.url}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  const doc = (await res.json()) as { paths: Record<string, Record<string, { parameters?: Parameter[] }>> };
  const examples: Record<string, unknown> = { exchange, symbol, interval: '1m', from: String(T0), limit: 5 };
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) {
      for (const p of op.parameters ?? []) if (p.name in examples) p.example = examples[p.name];
    }
  }
  const file = join(dir, 'openapi.json');
  await writeFile(file, JSON.stringify(doc));
  return file;
}

function schemathesis(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(endpoint('SCHEMATHESIS_PATH'), args, {
      // Its cache of crashes (.schemathesis/) goes to the run's directory, not the checkout.
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', COLUMNS: '160' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('schemathesis against tickmesh api', () => {
  it('finds no 5xx and no answer outside the document', async () => {
    const doc = await documentWithExamples();
    const started = Date.now();
    const run = await schemathesis([
      'run',
      doc,
      ...['--url', api.url],
      ...['--header', `Authorization: Bearer ${key}`],
      ...[
        '--checks',
        'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
      ],
      ...['--phases', 'examples,coverage,fuzzing'],
      ...['--max-examples', '25', '--seed', '18', '--workers', '2'],
      ...['--generation-database', 'none', '--request-timeout', '10', '--no-color'],
    ]);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`schemathesis ran ${seconds} s:\n${run.output.slice(-6000)}`);
    expect(run.code, run.output).toBe(0);
    // The seeded market was asked for and answered in full.
    const metrics = await (await fetch(`http://127.0.0.1:${api.metricsPort}/metrics`)).text();
    for (const route of ['/api/v1/candles', '/api/v1/alerts', '/api/v1/candles/latest', '/api/v1/prices/latest']) {
      expect(metrics, route).toMatch(
        new RegExp(`tickmesh_api_requests_total\\{route="${route}",method="GET",status="200"[^}]*\\} [1-9]`),
      );
    }
    expect(api.output()).not.toMatch(/"level":50/);
  }, 150_000);
});
