import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'pg';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrendPrediction } from '../../internal/actor/output.js';
import type { Bus } from '../../internal/bus/bus.js';
import { createMemoryBus } from '../../internal/bus/memory-bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { candleSubject, indicatorSubject } from '../../internal/bus/subject-names.js';
import type { Alert } from '../../internal/market/alert.js';
import { type Candle, candleKey } from '../../internal/market/candle.js';
import type { NewsRecord, ReferenceRecord, SentimentRecord } from '../../internal/market/context.js';
import type { IndicatorValues } from '../../internal/market/indicator-values.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { apiConfig } from '../../internal/serve/api-config.js';
import { newApiKey } from '../../internal/serve/api-keys.js';
import { type ApiServer, createApiServer } from '../../internal/serve/api-server.js';
import { createMemoryCache } from '../../internal/sink/memory-cache.js';
import { createPgliteStore } from '../../internal/sink/pglite-store.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import type { Store } from '../../internal/sink/store.js';
import type { CandleVerification } from '../../internal/verify/verification.js';
import { alert, batch, candle, prediction } from '../contracts/store-contract.js';
import { spawnDev } from '../harness/dev-process.js';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { freePort } from '../harness/private-servers.js';
import { leaseRedisDb, type RedisDbLease } from '../harness/redis-db.js';
import { mismatchOf, seedVerification } from '../harness/verification-seed.js';

/**
 * The web dashboard in a real browser: Debian's Chromium (test/infra/chromium.sh) driven by
 * playwright-core, against the real commands run as child processes:
 *
 * - `tickmesh dev` with the exchange unreachable (so on the market simulator): the page loads
 *   without a console error, lists the markets, draws candles with lightweight-charts, draws the
 *   indicator overlay the user picks once candles close, updates live, says that the data is
 *   simulated, and comes back by itself after the process is killed and started again.
 * - `tickmesh api` on the real PostgreSQL, NATS and Redis, with API keys on: the page asks for a
 *   key and uses it (REST and the WebSocket's `?api_key=`); it shows history written by the Store
 *   (candles, indicators, the model's record, an alert), pages back over REST when the chart is
 *   dragged to its oldest candle, scrolls to an alert's candle when the alert is clicked, follows
 *   candles and indicators published on NATS, and resubscribes after the API is restarted.
 *
 * What the chart draws is read from the page's `window.tickmesh.chart()` (the series' data
 * lengths, panes, markers, visible range). Screenshots are written to a temporary folder; with
 * TICKMESH_UPDATE_SCREENSHOTS=1 they are also copied to docs/img/ (docs/DASHBOARD.md shows them).
 */

const DOCS_IMG = fileURLToPath(new URL('../../docs/img/', import.meta.url));
const VIEWPORT = { width: 1280, height: 800 };
/** The page's REST page size (internal/serve/dashboard/state.js). */
const PAGE_CANDLES = 300;

interface Child {
  readonly child: ChildProcess;
  /** The API's base URL, once it listens. */
  readonly url: Promise<string>;
  readonly exited: Promise<number | null>;
}

/** A tickmesh child process; `url` resolves with the API's URL from its `api listening` log line. */
function watch(child: ChildProcess): Child {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
      try {
        const l = JSON.parse(text) as { msg?: string; url?: string };
        if (l.msg === 'api listening' && l.url) resolve(l.url);
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`tickmesh exited (${code}) before listening:\n${stderr}`)));
  });
  return { child, url, exited };
}

/** Runs `tickmesh dev` on the simulator with its API on `port`. */
function startDev(port: number): Child {
  return watch(spawnDev(['--ws-url', 'ws://127.0.0.1:1/stream', '--rate', '30', '--api-port', String(port)]));
}

/**
 * Runs `tickmesh api` on the real servers, reading PostgreSQL schema `schema`, keys from
 * `keysFile`, and Redis at `redisUrl` (a leased database: the API reads Redis first, with the
 * default key prefix other tests' workers write under in the shared database).
 */
function startApi(port: number, schema: string, keysFile: string, redisUrl: string): Child {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'cmd/tickmesh/main.ts',
      'api',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--metrics-port',
      '0',
      '--schema',
      schema,
      '--migrate',
      'true',
      '--api-keys-file',
      keysFile,
      // 5m candles are kept 6 hours: the 100 stored reach further, and the page must stop there.
      '--candle-retention',
      '5m=6h',
      '--log-level',
      'info',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: endpoint('DATABASE_URL'),
        NATS_URL: endpoint('NATS_URL'),
        REDIS_URL: redisUrl,
      },
    },
  );
  return watch(child);
}

async function kill(c: Child): Promise<void> {
  if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await c.exited;
}

/** What the page's chart draws (price-chart.js stats()). */
interface ChartStats {
  readonly candles: number;
  readonly volume: number;
  readonly firstTime?: number;
  readonly lastTime?: number;
  readonly lines: Record<string, number>;
  readonly panes: number;
  readonly markers: number;
  readonly visibleTime?: { from: number; to: number };
  readonly selected?: string;
  readonly interval: string;
  readonly historyStart: boolean;
}

function chartStats(page: Page): Promise<ChartStats> {
  return page.evaluate(() => {
    const hook = (globalThis as unknown as { tickmesh?: { chart(): ChartStats } }).tickmesh;
    return hook
      ? hook.chart()
      : { candles: 0, volume: 0, lines: {}, panes: 0, markers: 0, interval: '', historyStart: false };
  });
}

/** The markets table as text, one row per market, without the age column (it moves by itself). */
function marketRows(page: Page): Promise<string[]> {
  return page.$$eval('#markets-body tr:not(.empty)', (rows) =>
    rows.map((r) =>
      [...r.querySelectorAll('td')]
        .slice(0, -1)
        .map((td) => td.textContent)
        .join(' '),
    ),
  );
}

/** Waits until the markets table reads differently from `before` (a live update reached the page). */
function changes(page: Page, before: string[], ms: number): Promise<string[]> {
  const read = async () => {
    const now = await marketRows(page);
    return now.length > 0 && now.join('\n') !== before.join('\n') ? now : undefined;
  };
  return eventually('the markets table to change', read, ms, 200);
}

/** A browser page that records console errors and uncaught exceptions with the phase they happened in. */
class Session {
  browser!: Browser;
  page!: Page;
  phase = 'load';
  readonly problems: { phase: string; text: string }[] = [];
  private shots = '';

  async open(): Promise<void> {
    this.shots = await mkdtemp(join(tmpdir(), 'tickmesh-shots-'));
    this.browser = await chromium.launch({
      executablePath: endpoint('CHROMIUM_PATH'),
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    this.page = await this.browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    this.page.on('console', (msg) => {
      if (msg.type() === 'error')
        this.problems.push({ phase: this.phase, text: `${msg.text()} (${msg.location().url})` });
    });
    this.page.on('pageerror', (err) => this.problems.push({ phase: this.phase, text: `uncaught: ${err.message}` }));
  }

  async screenshot(name: string): Promise<void> {
    const path = join(this.shots, name);
    await this.page.screenshot({ path, type: 'png' });
    expect((await stat(path)).size).toBeGreaterThan(10_000);
    if (process.env.TICKMESH_UPDATE_SCREENSHOTS === '1') await copyFile(path, join(DOCS_IMG, name));
  }

  /** Problems other than those `allowed` in their phase. */
  unexpected(allowed: Record<string, RegExp> = {}): { phase: string; text: string }[] {
    return this.problems.filter((p) => !allowed[p.phase]?.test(p.text));
  }

  async close(): Promise<void> {
    await this.browser?.close();
    if (this.shots) await rm(this.shots, { recursive: true, force: true });
  }
}

/**
 * `tickmesh dev`'s simulated context sources reach the panels through the real context routes:
 * the selected asset's reference data, Fear & Greed, and an asset's newest headline with its score
 * (its market left charted). Returns the asset charted before.
 */
async function expectSimulatedContext(page: Page, base: string): Promise<string> {
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${base}${path}`)).json()) as T;

  const asset = ((await page.textContent('#chart-title')) ?? '').split('-')[0] as string;
  const ref = await get<{ assets: ReferenceRecord[] }>('/api/v1/assets/latest');
  const mine = ref.assets.find((r) => r.asset === asset);
  expect(mine?.source, asset).toBe('simulated');
  await expect
    .poll(() => page.innerText('#asset-title'), { timeout: 70_000 })
    .toMatch(new RegExp(`^${asset} · simulated, `));
  const facts = await page.innerText('#asset-facts');
  expect(facts).toMatch(new RegExp(`rank\\s+#${mine?.rank}`));
  expect(facts).toMatch(/market cap\s+[\d.]+[KMBT]? USD/);

  const { sentiment } = await get<{ sentiment: SentimentRecord[] }>('/api/v1/sentiment?index=fear-greed&limit=7');
  const newest = sentiment.reduce((a, b) => (b.time > a.time ? b : a));
  expect(newest.source).toBe('simulated');
  await expect.poll(() => page.innerText('#sentiment-value'), { timeout: 70_000 }).toBe(String(newest.value));
  expect(await page.innerText('#sentiment-class')).toBe(newest.classification);
  expect(await page.innerText('#sentiment-time')).toBe(
    `${new Date(newest.time).toISOString().slice(0, 10)} · simulated`,
  );

  // Headlines come every 20 s for an asset picked at random: show the market of the newest one.
  const headline = await eventually(
    'a headline in tickmesh dev',
    async () => (await get<{ news: NewsRecord[] }>('/api/v1/news?limit=50')).news.at(-1),
    60_000,
    500,
  );
  const other = headline.assets[0] as string;
  await chartSimMarket(page, other);
  const item = page.locator('#news-list li', { hasText: headline.title });
  await expect.poll(() => item.count(), { timeout: 15_000 }).toBe(1);
  const score = headline.sentiment.score;
  expect(await item.locator('.score').innerText()).toBe(score > 0 ? `+${score}` : String(score));
  expect(await item.innerText()).toContain('simulated');
  expect(await page.innerText('#news-title')).toBe(other);

  return asset;
}

/** Charts the simulated market of `asset` by searching for it. */
async function chartSimMarket(page: Page, asset: string): Promise<void> {
  await page.fill('#search', asset.toLowerCase());
  await expect.poll(() => marketRows(page)).toHaveLength(1);
  await page.press('#search', 'Enter');
  await expect.poll(() => page.textContent('#chart-title')).toBe(`${asset}-USDT · sim`);
  await page.fill('#search', '');
  await expect.poll(() => marketRows(page)).toHaveLength(5);
}

/** The context panels show when the API has their routes (per its OpenAPI document), and hide otherwise. */
async function expectContextPanels(page: Page, base: string, headers: Record<string, string> = {}): Promise<void> {
  const doc = (await (await fetch(`${base}/api/v1/openapi.json`, { headers })).json()) as { paths: object };
  const has = (path: string) => Object.hasOwn(doc.paths, path);
  const panels: Array<[string, string]> = [
    ['#asset-panel', '/api/v1/assets/latest'],
    ['#sentiment-panel', '/api/v1/sentiment'],
    ['#news-panel', '/api/v1/news'],
    ['#model-panel', '/api/v1/predictions'],
  ];
  for (const [panel, route] of panels) {
    await expect
      .poll(() => page.isVisible(panel), { timeout: 10_000, message: `${panel} (${route})` })
      .toBe(has(route));
  }
}

describe('the web dashboard of tickmesh dev in Chromium', () => {
  const s = new Session();
  let port: number;
  const devs: Child[] = [];

  beforeAll(async () => {
    port = await freePort();
    devs.push(startDev(port));
    await s.open();
  });

  afterAll(async () => {
    await s.close();
    for (const d of devs) await kill(d);
  });

  it('loads without console errors, lists the markets, draws candles and the overlay picked, updates live, says the data is simulated', async () => {
    const { page } = s;
    const url = await (devs[0] as Child).url;
    expect(url).toBe(`http://127.0.0.1:${port}`);
    await page.goto(`${url}/`, { waitUntil: 'load' });

    await page.waitForSelector('#status.status-live', { timeout: 30_000 });
    await expect.poll(() => marketRows(page), { timeout: 30_000, interval: 250 }).toHaveLength(5);
    const rows = await marketRows(page);
    for (const m of ['BTC-USDT', 'ETH-USDT', 'SOL-USDT', 'BNB-USDT', 'XRP-USDT']) {
      expect(
        rows.some((r) => r.startsWith(`${m} sim `)),
        m,
      ).toBe(true);
    }

    expect(await page.isVisible('#sim-banner')).toBe(true);
    expect(await page.innerText('#sim-banner')).toContain('SIMULATED DATA');
    expect(await page.title()).toBe('tickmesh · SIMULATED data');
    expect(await page.innerText('#source')).toBe('source: SIMULATED (exchange unreachable)');
    // The interval list is the API's.
    expect(await page.$$eval('#interval option', (os) => os.map((o) => o.textContent))).toEqual([
      '1m',
      '5m',
      '15m',
      '1h',
      '4h',
      '1d',
    ]);

    // The first market is selected and its open candle drawn by lightweight-charts.
    expect(await page.textContent('#chart-title')).toBe('BNB-USDT · sim');
    await expect.poll(async () => (await chartStats(page)).candles, { timeout: 20_000 }).toBeGreaterThan(0);

    // Live: the open candles move within seconds, and so does the message count.
    await changes(page, await marketRows(page), 5_000);
    const messages = async () =>
      Number((await page.innerText('#stream-stats')).match(/stream: ([\d,]+)/)?.[1]?.replaceAll(',', '') ?? 0);
    await expect.poll(messages, { timeout: 5_000, interval: 250 }).toBeGreaterThan(0);
    const before = await messages();
    await expect.poll(messages, { timeout: 5_000, interval: 250 }).toBeGreaterThan(before);

    // Market search narrows the table; Enter shows the first match.
    await page.fill('#search', 'eth');
    await expect.poll(() => marketRows(page)).toHaveLength(1);
    await page.press('#search', 'Enter');
    await expect.poll(() => page.textContent('#chart-title')).toBe('ETH-USDT · sim');
    await page.fill('#search', '');
    await expect.poll(() => marketRows(page)).toHaveLength(5);

    // The user picks the imbalance pane: it is drawn once the first 1m candle has closed (its
    // indicators come over the stream's `indicators` subscription), in a pane of its own.
    await page.check('input[data-overlay="imbalance"]');
    await expect
      .poll(async () => (await chartStats(page)).lines.imbalance ?? 0, { timeout: 100_000, interval: 500 })
      .toBeGreaterThan(0);
    const drawn = await chartStats(page);
    expect(drawn.panes).toBe(2);
    expect(drawn.candles).toBeGreaterThanOrEqual(2);
    // The model's panel is there (the predictions route), warming up or with its record.
    await expectContextPanels(page, url);
    const charted = await expectSimulatedContext(page, url);

    expect(await page.isVisible('#error-banner')).toBe(false);
    await s.screenshot('dashboard.png');
    await chartSimMarket(page, charted);
    expect(s.unexpected()).toEqual([]);
  }, 180_000);

  it('reconnects, resubscribes and updates again when the API process is killed and started again', async () => {
    const { page } = s;
    const first = devs[0] as Child;
    s.phase = 'outage';
    await kill(first);
    await page.waitForSelector('#status.status-down', { timeout: 10_000 });
    expect(await page.innerText('#status')).toContain('retrying');
    const frozen = await marketRows(page);
    await page.waitForTimeout(1_000);
    expect(await marketRows(page)).toEqual(frozen);
    await s.screenshot('dashboard-reconnecting.png');

    const second = startDev(port);
    devs.push(second);
    expect(await second.url).toBe(`http://127.0.0.1:${port}`);
    // The page retries with a backoff capped at 10 s; the new process then takes its subscription.
    await page.waitForSelector('#status.status-live', { timeout: 60_000 });
    s.phase = 'after';
    await changes(page, await marketRows(page), 10_000);
    // The chart was loaded again from the new process (a new store: its open candle only).
    await expect.poll(async () => (await chartStats(page)).candles, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await page.textContent('#chart-title')).toBe('ETH-USDT · sim');
    expect(await page.isVisible('#sim-banner')).toBe(true);

    // While the API was gone the browser reported the failed connection attempts, and nothing else.
    expect(s.unexpected({ outage: /WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/ })).toEqual([]);
  }, 180_000);
});

describe('the web dashboard of tickmesh api on the real servers, with API keys on', () => {
  const s = new Session();
  const schema = freshName('web').replaceAll('-', '_');
  const exchange = freshName('web');
  const symbol = 'BTCUSDT';
  const market = 'BTC-USDT';
  const HISTORY = 700;
  const MINUTE = 60_000;
  /** The open minute: the stored history ends just before it. */
  const now = Math.floor(Date.now() / MINUTE) * MINUTE;
  const openTimes = Array.from({ length: HISTORY }, (_, i) => now - (HISTORY - i) * MINUTE);
  /** An alert on a candle older than the first two pages. */
  const alertCandle = openTimes[40] as number;
  const HEADLINE = 'Bitcoin ETF inflows jump as BTC tops $42,000';
  /** Candles judged by the venue (seeded as the reconciler writes them): the newest 50, of which these two not verified. */
  const MISMATCH = HISTORY - 20;
  const UNVERIFIABLE = HISTORY - 40;
  let store: Store;
  let bus: Bus;
  let dir: string;
  let keysFile: string;
  let key: string;
  let port: number;
  const apis: Child[] = [];
  let redis: RedisDbLease | undefined;
  const candleRequests: string[] = [];

  const price = (i: number) => (42_000 + 300 * Math.sin(i / 25) + (i % 7) * 3).toFixed(2);
  function historyCandle(i: number): Candle {
    const open = price(i);
    const close = price(i + 1);
    const hi = Math.max(Number(open), Number(close)) + 5;
    const lo = Math.min(Number(open), Number(close)) - 5;
    return candle({
      exchange,
      symbol,
      market,
      openTime: openTimes[i] as number,
      open,
      close,
      high: hi.toFixed(2),
      low: lo.toFixed(2),
      vwap: open,
    });
  }
  function indicatorRow(openTime: number, i: number): IndicatorValues {
    const p = Number(price(i));
    return {
      exchange,
      symbol,
      market,
      interval: '1m',
      openTime,
      vwap: p,
      sma: { '20': p - 20 },
      ema: { '12': p + 20 },
      volatility: 0.3 + (i % 10) / 100,
      imbalance: Math.sin(i / 5) / 2,
    };
  }
  const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tickmesh-web-'));
    const made = newApiKey('browser');
    key = made.key;
    keysFile = join(dir, 'keys');
    await writeFile(keysFile, `${made.line}\n`);

    store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema });
    await store.migrate();
    const FIVE = 5 * MINUTE;
    const fives = Array.from({ length: 100 }, (_, i) =>
      candle({ exchange, symbol, market, interval: '5m', openTime: Math.floor(now / FIVE) * FIVE - (100 - i) * FIVE }),
    );
    // Three calendar months (30, 31 and 30 or 31 days: never a fixed length) and a 3d candle.
    const month = new Date(now);
    const months = [2, 1, 0].map((back) =>
      candle({
        exchange,
        symbol,
        market,
        interval: '1M',
        openTime: Date.UTC(month.getUTCFullYear(), month.getUTCMonth() - back, 1),
        closed: back > 0,
      }),
    );
    const candles = [...openTimes.map((_, i) => historyCandle(i)), ...fives, ...months];
    const last = openTimes.at(-1) as number;
    const forecast: TrendPrediction = prediction({
      exchange,
      symbol,
      market,
      openTime: last,
      targetOpenTime: now,
    });
    const spike: Alert = alert({
      id: `${exchange}:${symbol}:price_spike:1m:${alertCandle}`,
      exchange,
      symbol,
      market,
      time: alertCandle + 30_000,
      message: 'price moved 4.1 sigma in 1m',
    });
    const newsSpike: Alert = alert({
      id: `${exchange}:${symbol}:volume_spike:1m:${openTimes[690]}:news`,
      exchange,
      symbol,
      market,
      kind: 'news_spike',
      time: (openTimes[690] as number) + 10_000,
      message: `volume 6.2x the mean in 1m; headline: ${HEADLINE}`,
      evidence: {
        spikeId: `${exchange}:${symbol}:volume_spike:1m:${openTimes[690]}`,
        spikeKind: 'volume_spike',
        headline: HEADLINE,
        headlineSource: 'coindesk',
        headlineLink: 'https://www.coindesk.com/markets/etf-inflows',
        headlineTime: openTimes[689] as number,
        headlineSentiment: 3,
        secondsFromHeadline: 70,
      },
    });
    await store.commit(
      batch({
        topic: freshName('t'),
        candles,
        alerts: [spike, newsSpike],
        indicators: openTimes.map((t, i) => indicatorRow(t, i)),
        predictions: [forecast],
      }),
    );
    // The reconciler's judgements of the newest 50 minutes: one mismatch, one unverifiable.
    const pool = new Pool({ connectionString: endpoint('DATABASE_URL'), max: 1 });
    try {
      const sql = (text: string, params: unknown[]) => pool.query(text, params);
      for (let i = HISTORY - 50; i < HISTORY; i++) {
        const v: CandleVerification =
          i === MISMATCH
            ? mismatchOf(0, (openTimes[i] as number) + 65_000)
            : i === UNVERIFIABLE
              ? {
                  status: 'unverifiable',
                  revision: 0,
                  reason: 'no kline within 120 s',
                  checkedAt: openTimes[i] as number,
                }
              : { status: 'verified', revision: 0, conventionDifferences: [], checkedAt: openTimes[i] as number };
        await seedVerification(sql, historyCandle(i), v, `"${schema}".candles`);
      }
    } finally {
      await pool.end();
    }
    bus = await createNatsBus({ servers: endpoint('NATS_URL'), name: 'dashboard-browser-test' });

    port = await freePort();
    redis = await leaseRedisDb();
    apis.push(startApi(port, schema, keysFile, redis.url));
    await s.open();
    s.page.on('request', (r) => {
      if (r.url().includes('/api/v1/candles?')) candleRequests.push(r.url());
    });
  }, 60_000);

  afterAll(async () => {
    await s.close();
    for (const a of apis) await kill(a);
    await redis?.release();
    await bus?.close();
    await store?.close();
    const pool = new Pool({ connectionString: endpoint('DATABASE_URL'), max: 1 });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let trades = 0;
  /**
   * A partial candle of the open minute with close `close`, as a worker publishes it: one more
   * trade each time (the stream drops a repeat of a candle's last trade id, the page an older state).
   */
  function publishOpen(close: string): void {
    trades += 1;
    const c = candle({
      trades,
      lastTradeId: String(5_000 + trades),
      exchange,
      symbol,
      market,
      openTime: now,
      open: price(HISTORY),
      high: '43000.00',
      low: '41000.00',
      close,
      closed: false,
    });
    bus.publish(candleSubject('partial', c), encode(c));
  }

  it('asks for a key, then shows the stored history, the overlays, the model record and the alert', async () => {
    const { page } = s;
    const url = await (apis[0] as Child).url;
    s.phase = 'key';
    await page.goto(`${url}/`, { waitUntil: 'load' });
    await page.waitForSelector('#key-form', { state: 'visible', timeout: 20_000 });
    expect(await page.isVisible('#status.status-live')).toBe(false);
    await page.fill('#key-input', key);
    await page.press('#key-input', 'Enter');
    await page.waitForSelector('#status.status-live', { timeout: 30_000 });
    s.phase = 'keyed';
    expect(await page.isVisible('#key-form')).toBe(false);
    expect(await page.innerText('#source')).toBe('source: workers over NATS');

    // Our market, found by search (other tests' markets may trade on the shared NATS).
    await expect.poll(() => marketRows(page), { timeout: 30_000 }).toContainEqual(expect.stringContaining(exchange));
    await page.fill('#search', exchange);
    await page.press('#search', 'Enter');
    await expect.poll(() => page.textContent('#chart-title')).toBe(`${market} · ${exchange}`);

    // The newest page of the store's candles, with the default overlays (SMA 20, EMA 12).
    await expect.poll(async () => (await chartStats(page)).candles, { timeout: 20_000 }).toBe(PAGE_CANDLES);
    const first = await chartStats(page);
    expect(first.lastTime).toBe((openTimes.at(-1) as number) / 1000);
    expect(first.volume).toBe(PAGE_CANDLES);
    expect(first.lines).toEqual({ 'sma:20': PAGE_CANDLES, 'ema:12': PAGE_CANDLES });
    expect(first.panes).toBe(1);

    // Two panes more, picked by the user.
    await page.check('input[data-overlay="volatility"]');
    await page.check('input[data-overlay="imbalance"]');
    await expect.poll(async () => (await chartStats(page)).panes).toBe(3);
    expect((await chartStats(page)).lines).toMatchObject({ volatility: PAGE_CANDLES, imbalance: PAGE_CANDLES });

    // The model's forecast and its record next to the three baselines', and its verdict.
    await page.waitForSelector('#model-panel', { state: 'visible' });
    expect(await page.$$eval('#model-body tr', (trs) => trs.map((tr) => tr.firstElementChild?.textContent))).toEqual([
      'model',
      'persistence',
      'majority',
      'coin',
    ]);
    expect(await page.innerText('#model-signal')).toMatch(/P\(up\) 0\.573 up/);
    expect(await page.innerText('#model-verdict')).toBe(
      'does not beat the baselines on this market (48 scored candles)',
    );
    expect(await page.innerText('#model-body')).toMatch(/model\s+55\.0%\s+0\.6812\s+0\.2431/);
    expect(await page.innerText('#model-body')).toMatch(/persistence\s+50\.0%\s+6\.9000\s+0\.5000\s+better/);
    expect(await page.innerText('#model-body')).toMatch(/coin\s+50\.0%\s+0\.6931\s+0\.2500\s+too few/);
    await expectContextPanels(page, url, { authorization: `Bearer ${key}` });

    // The alert is listed, and linked to its market's chart.
    await page.waitForSelector(
      `#alerts-list li.linked[data-alert="${exchange}:${symbol}:price_spike:1m:${alertCandle}"]`,
    );
    // The news spike with its headline (from its evidence): source, sentiment and a link to the story.
    const news = `#alerts-list li[data-alert="${exchange}:${symbol}:volume_spike:1m:${openTimes[690]}:news"]`;
    await page.waitForSelector(news);
    expect(await page.innerText(`${news} .kind`)).toBe('news spike');
    expect(await page.innerText(`${news} .msg`)).toBe('volume 6.2x the mean in 1m');
    expect(await page.innerText(`${news} .headline`)).toMatch(/^coindesk\s+\+3\s+Bitcoin ETF inflows jump/);
    expect(await page.getAttribute(`${news} .headline a`, 'href')).toBe('https://www.coindesk.com/markets/etf-inflows');
    expect(s.unexpected({ key: /status of 401/ })).toEqual([]);
  }, 120_000);

  it('pages back over REST when the chart is dragged to its oldest candle', async () => {
    const { page } = s;
    const box = await page.locator('#chart').boundingBox();
    if (!box) throw new Error('no chart');
    const y = box.y + box.height / 3;
    const before = candleRequests.length;
    for (let i = 0; i < 12 && (await chartStats(page)).candles <= PAGE_CANDLES; i++) {
      await page.mouse.move(box.x + 100, y);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width - 120, y, { steps: 8 });
      await page.mouse.up();
      await page.waitForTimeout(300);
    }
    // A page more (or two, if the drag went on past the page's oldest candle).
    await expect
      .poll(async () => (await chartStats(page)).candles, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2 * PAGE_CANDLES);
    const older = await chartStats(page);
    expect(older.firstTime).toBeLessThanOrEqual((openTimes[HISTORY - 2 * PAGE_CANDLES] as number) / 1000);
    expect(older.lines.volatility).toBe(older.candles);
    // Asked as a range ending at the oldest candle shown, by the page's own requests.
    const oldest = openTimes[HISTORY - PAGE_CANDLES] as number;
    expect(candleRequests.slice(before).some((u) => new URL(u).searchParams.get('to') === String(oldest))).toBe(true);
    await s.screenshot('dashboard-api-history.png');
  }, 60_000);

  it('scrolls to the alert’s candle when the alert is clicked, loading the history back to it', async () => {
    const { page } = s;
    await page.click(`#alerts-list li[data-alert="${exchange}:${symbol}:price_spike:1m:${alertCandle}"]`);
    // Its marker and the news spike's, each on its candle, and the mismatch's.
    await expect.poll(async () => (await chartStats(page)).markers, { timeout: 15_000 }).toBe(3);
    const shown = await chartStats(page);
    expect(shown.candles).toBe(HISTORY);
    const t = alertCandle / 1000;
    // Centred once the page has drawn it (a loaded machine may take a frame or two).
    await expect
      .poll(async () => {
        const v = (await chartStats(page)).visibleTime;
        return v !== undefined && v.from < t && v.to > t;
      })
      .toBe(true);
  }, 60_000);

  it('shows whether the venue agrees: a badge per candle, mismatch markers, the verified share, live mismatches', async () => {
    const { page } = s;
    const key = (i: number) => `${exchange}:${symbol}:1m:${openTimes[i]}`;
    // The market's share: 48 of the 50 judged candles are verified; the others are pending.
    const row = page.locator('#markets-body tr', { hasText: exchange });
    await expect.poll(() => row.locator('td.share').innerText(), { timeout: 40_000 }).toBe('96.0%');
    expect(await row.locator('td.share').getAttribute('title')).toBe(
      '1m: 48 verified · 1 mismatch · 1 unverifiable · 650 pending',
    );
    // The mismatch is listed with the field that differs, and takes the chart to its candle.
    const item = page.locator(`#mismatch-list li.linked[data-mismatch="${key(MISMATCH)}"]`);
    await expect
      .poll(() => item.count(), { timeout: 15_000 })
      .toBe(1)
      .catch(async (err: unknown) => {
        throw new Error(`no mismatch item ${key(MISMATCH)} in ${await page.innerHTML('#verification-panel')}`, {
          cause: err,
        });
      });
    expect(await item.locator('.msg').innerText()).toBe('volume 1.23456789 ≠ 1.33456789 (venue)');
    await page.click('#chart'); // away from the mismatch list's hover styles
    await item.click();
    await expect.poll(async () => (await chartStats(page)).markers).toBe(3);

    // The legend shows the judgement of the candle under the crosshair.
    const box = await page.locator('#chart').boundingBox();
    if (!box) throw new Error('no chart');
    const hover = async (i: number): Promise<string> => {
      const x = await page.evaluate(
        (t) => (globalThis as unknown as { tickmesh: { candleX(ms: number): number | null } }).tickmesh.candleX(t),
        openTimes[i] as number,
      );
      if (x === null) throw new Error(`candle ${i} is not in view`);
      await page.mouse.move(box.x + x, box.y + box.height / 2);
      return page.locator('#legend .badge').innerText();
    };
    await expect.poll(() => hover(MISMATCH)).toBe('MISMATCH');
    expect(await page.locator('#legend .badge').getAttribute('title')).toBe(
      'the venue disagrees: volume 1.23456789 ≠ 1.33456789 (venue)',
    );
    expect(await hover(MISMATCH + 1)).toBe('VERIFIED');
    expect(await hover(UNVERIFIABLE)).toBe('UNVERIFIABLE');
    expect(await hover(HISTORY - 60)).toBe('PENDING');
    await hover(MISMATCH);
    await s.screenshot('dashboard-verification.png');

    // A judgement from the stream: the pending candle published again with its mismatch (as the
    // worker's reconciler host does) is listed and marked at once.
    const live = HISTORY - 55;
    const judged = { key: candleKey(historyCandle(live)), ...historyCandle(live), verification: mismatchOf(0, now) };
    bus.publish(candleSubject('closed', judged), encode(judged));
    await expect
      .poll(() => page.locator(`#mismatch-list li[data-mismatch="${key(live)}"]`).count(), { timeout: 15_000 })
      .toBe(1);
    await expect.poll(async () => (await chartStats(page)).markers).toBe(4);
    expect(await hover(live)).toBe('MISMATCH');
    expect(s.unexpected({ key: /status of 401/ })).toEqual([]);
    // Back to the view the alert left, which the next tests start from.
    await page.mouse.move(0, 0);
    await page.click(`#alerts-list li[data-alert="${exchange}:${symbol}:price_spike:1m:${alertCandle}"]`);
    await expect
      .poll(async () => {
        const v = (await chartStats(page)).visibleTime;
        return v !== undefined && v.from < alertCandle / 1000 && v.to > alertCandle / 1000;
      })
      .toBe(true);
  }, 120_000);

  it('switches the interval: the table, the chart and the subscription follow', async () => {
    const { page } = s;
    await page.selectOption('#interval', '5m');
    await expect.poll(async () => (await chartStats(page)).interval).toBe('5m');
    await expect.poll(async () => (await chartStats(page)).candles, { timeout: 15_000 }).toBe(100);
    expect(await page.innerText('#change-head')).toBe('5m change');
    // Its view shows every candle, so it asks for older ones at once: none is kept (5m=6h), and
    // it does not ask before the horizon (a 400 would be a console error).
    await expect
      .poll(() => page.innerText('#chart-info'))
      .toMatch(/^5m · 100 candles \(back to the retention horizon\)/);
    // The stream now carries the 5m candles (and no longer the 1m ones).
    const open5 = candle({
      exchange,
      symbol,
      market,
      interval: '5m',
      openTime: Math.floor(now / (5 * MINUTE)) * 5 * MINUTE,
      close: '43210.98',
      closed: false,
      trades: 99,
      lastTradeId: '99999',
    });
    await expect
      .poll(
        async () => {
          bus.publish(candleSubject('partial', open5), encode(open5));
          return (await marketRows(page)).join('\n');
        },
        { timeout: 10_000, interval: 500 },
      )
      .toContain('43,210.98');
    // Calendar months: each candle opens on the 1st and is named by its month.
    await page.selectOption('#interval', '1M');
    await expect.poll(async () => (await chartStats(page)).candles, { timeout: 15_000 }).toBe(3);
    const monthly = await chartStats(page);
    const d = new Date(now);
    expect(monthly.lastTime).toBe(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000);
    expect(monthly.firstTime).toBe(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 2, 1) / 1000);
    expect(await page.innerText('#legend')).toMatch(new RegExp(`^${new Date(now).toISOString().slice(0, 7)}\\s+O `));
    await expect.poll(() => page.innerText('#chart-info')).toMatch(/^1M · 3 candles \(back to the oldest stored\)/);
    await page.selectOption('#interval', '1m');
    await expect.poll(async () => (await chartStats(page)).candles, { timeout: 15_000 }).toBe(PAGE_CANDLES);
  }, 60_000);

  it('follows candles and indicators from NATS, and again after the API is restarted', async () => {
    const { page } = s;
    await page.evaluate(() => (globalThis as unknown as { tickmesh: { showNewest(): void } }).tickmesh.showNewest());
    publishOpen('42123.45');
    await expect
      .poll(async () => (await chartStats(page)).lastTime, { timeout: 10_000, interval: 200 })
      .toBe(now / 1000);
    await expect.poll(() => marketRows(page), { timeout: 10_000 }).toContainEqual(expect.stringContaining('42,123.45'));
    // An indicator row of the open minute's candle, as a worker publishes it when the candle closes.
    const lines = (await chartStats(page)).lines.imbalance as number;
    const v = indicatorRow(now, HISTORY);
    bus.publish(indicatorSubject(v), encode(v));
    await expect.poll(async () => (await chartStats(page)).lines.imbalance, { timeout: 10_000 }).toBe(lines + 1);

    s.phase = 'outage';
    await kill(apis[0] as Child);
    await page.waitForSelector('#status.status-down', { timeout: 10_000 });
    const again = startApi(port, schema, keysFile, (redis as RedisDbLease).url);
    apis.push(again);
    await again.url;
    await page.waitForSelector('#status.status-live', { timeout: 60_000 });
    s.phase = 'after';
    // Subscribed again, with the key: a new price reaches the table and the chart.
    await expect
      .poll(
        async () => {
          publishOpen('42999.99');
          return (await marketRows(page)).join('\n');
        },
        { timeout: 15_000, interval: 500 },
      )
      .toContain('42,999.99');
    await expect
      .poll(async () => (await chartStats(page)).candles, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(PAGE_CANDLES);
    expect(
      s.unexpected({ key: /status of 401/, outage: /WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/ }),
    ).toEqual([]);
  }, 120_000);
});

/**
 * The context panels (issue 20) on recorded records, each value as the page shows it: the API
 * server with in-process adapters (as `tickmesh dev` runs it) and its real context routes over a
 * PGlite store. Without the routes at all the panels hide (the first describe, on `tickmesh dev`,
 * checks that against the API's OpenAPI document).
 */
describe('the context panels of the web dashboard in Chromium', () => {
  const s = new Session();
  let server: ApiServer;
  let pglite: Awaited<ReturnType<typeof createPgliteStore>>;
  const DAY = 86_400_000;
  const today = Math.floor(Date.now() / DAY) * DAY;
  /** When the records arrived: set as the test starts, since the page shows their ages. */
  let received = Date.now();

  const referenceRecord = (): ReferenceRecord => ({
    source: 'coingecko',
    asset: 'BTC',
    sourceId: 'bitcoin',
    vsCurrency: 'usd',
    price: 97_123.45,
    marketCap: 1_923_456_789_012,
    rank: 1,
    volume24h: 45_678_901_234,
    change24hPct: -1.234,
    circulatingSupply: 19_800_000,
    totalSupply: 19_800_000,
    maxSupply: 21_000_000,
    time: received - 120_000,
    receiveTime: received - 119_000,
  });
  const fearGreed = (daysAgo: number, value: number, classification: string): SentimentRecord => ({
    source: 'alternative.me',
    index: 'crypto-fear-greed',
    value,
    classification,
    time: today - daysAgo * DAY,
    receiveTime: received,
  });
  const headline = (n: number, title: string, score: number, link: string | null): NewsRecord => ({
    source: 'coindesk',
    guid: `guid-${n}`,
    link,
    title,
    summary: null,
    published: received - n * 600_000,
    receiveTime: received - n * 600_000 + 5_000,
    assets: ['BTC'],
    sentiment: { score, comparative: score / 8 },
  });
  const headlines = () => [
    headline(3, 'Bitcoin miners sell as hashprice falls', -2, 'https://www.coindesk.com/markets/miners'),
    headline(1, 'Bitcoin ETF inflows hit a record high', 3, 'https://www.coindesk.com/markets/etf'),
    headline(2, 'A feed item with a script link', 0, 'javascript:alert(1)'),
  ];

  let reference: ReferenceRecord;
  let news: NewsRecord[];

  beforeAll(async () => {
    received = Date.now();
    reference = referenceRecord();
    news = headlines();
    pglite = await createPgliteStore();
    await pglite.migrate();
    await pglite.commit(
      batch({ candles: [candle({ exchange: 'binance', symbol: 'BTCUSDT', market: 'BTC-USDT', openTime: today })] }),
    );
    // The context records as the worker's recorder stores them, served by the real context routes.
    await pglite.commitContext({
      topic: freshName('context'),
      partition: 0,
      nextOffset: 5n,
      references: [reference],
      sentiment: [fearGreed(2, 40, 'Fear'), fearGreed(0, 72, 'Greed'), fearGreed(1, 55, 'Neutral')],
      news,
    });
    server = createApiServer({
      store: pglite,
      cache: createMemoryCache(),
      bus: createMemoryBus(),
      logger: silentLogger(),
      registry: createRegistry({}, false),
      config: apiConfig({ listen: { port: 0, host: '127.0.0.1' }, source: { label: 'recorded', simulated: false } }),
    });
    await server.start(new AbortController().signal);
    await s.open();
  }, 60_000);

  afterAll(async () => {
    await s.close();
    await server?.close();
    await pglite?.close();
  });

  it("shows the asset's reference data, its headlines with their sentiment, and Fear & Greed", async () => {
    const { page } = s;
    await page.goto(`${server.url}/`, { waitUntil: 'load' });
    await page.waitForSelector('#status.status-live', { timeout: 30_000 });
    await expect.poll(() => page.textContent('#chart-title'), { timeout: 20_000 }).toBe('BTC-USDT · binance');

    await page.waitForSelector('#asset-panel', { state: 'visible', timeout: 10_000 });
    const facts = await page.$$eval('#asset-facts dt', (dts) =>
      Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])),
    );
    expect(facts).toEqual({
      price: '97,123.45 USD',
      rank: '#1',
      'market cap': '1.92T USD',
      '24 h volume': '45.68B USD',
      '24 h change': '-1.23%',
      circulating: '19.8M',
      'max supply': '21M',
    });
    expect(await page.innerText('#asset-title')).toBe('BTC · coingecko, 2m ago');

    // Newest first, each with its score; a link that is not a web link is not made a link.
    await page.waitForSelector('#news-panel', { state: 'visible' });
    const items = await page.$$eval('#news-list li', (lis) =>
      lis.map((li) => ({
        score: li.querySelector('.score')?.textContent,
        tone: li.querySelector('.score')?.className,
        title: li.querySelector('.msg')?.textContent,
        href: li.querySelector('.msg a')?.getAttribute('href') ?? null,
      })),
    );
    expect(items).toEqual([
      {
        score: '+3',
        tone: 'score up',
        title: 'Bitcoin ETF inflows hit a record high',
        href: 'https://www.coindesk.com/markets/etf',
      },
      { score: '0', tone: 'score muted', title: 'A feed item with a script link', href: null },
      {
        score: '-2',
        tone: 'score down',
        title: 'Bitcoin miners sell as hashprice falls',
        href: 'https://www.coindesk.com/markets/miners',
      },
    ]);

    // The newest day's value, whatever the order of the page.
    await page.waitForSelector('#sentiment-panel', { state: 'visible' });
    expect(await page.innerText('#sentiment-value')).toBe('72');
    expect(await page.innerText('#sentiment-class')).toBe('Greed');
    expect(await page.getAttribute('#sentiment-mark', 'style')).toBe('left: 72%;');

    await s.screenshot('dashboard-context.png');
    expect(s.unexpected()).toEqual([]);
  }, 90_000);
});

describe('verified candles end to end in tickmesh dev, with a planted discrepancy', () => {
  const s = new Session();
  let dev: Child;

  beforeAll(async () => {
    const port = await freePort();
    // The simulator publishes its own klines; one trade of BTC-USDT's first whole minute is counted
    // in its kline and withheld from its trades, as a trade lost on the way in would be.
    dev = watch(
      spawnDev([
        ...['--ws-url', 'ws://127.0.0.1:1/stream', '--rate', '30', '--api-port', String(port)],
        ...['--context', 'off', '--plant-kline-discrepancy', 'BTC-USDT'],
      ]),
    );
    await s.open();
  });

  afterAll(async () => {
    await s.close();
    if (dev) await kill(dev);
  });

  it("the simulator's klines verify its candles; the planted discrepancy is a mismatch on the dashboard", async () => {
    const { page } = s;
    const url = await dev.url;
    interface Summary {
      counts: { verified: number; mismatch: number };
      markets: Array<{ symbol: string; counts: { verified: number; mismatch: number } }>;
      mismatches: Array<Candle & { verification: CandleVerification }>;
    }
    // Each closed minute is judged once the simulator's kline is in (seconds after the close).
    const summary = await eventually(
      'the planted mismatch and verified candles of every market',
      async () => {
        const body = (await (await fetch(`${url}/api/v1/verification?interval=1m`)).json()) as Summary;
        const everyMarket = body.markets.length === 5 && body.markets.every((m) => m.counts.verified > 0);
        return everyMarket && body.mismatches.length > 0 ? body : undefined;
      },
      240_000,
      2_000,
    );
    // Only the planted minute, naming the fields the withheld trade changes.
    expect(summary.counts.mismatch).toBe(1);
    const [m] = summary.mismatches;
    expect(m?.market).toBe('BTC-USDT');
    expect(m?.verification.differences?.map((d) => d.field)).toEqual(expect.arrayContaining(['volume', 'trades']));

    await page.goto(`${url}/`, { waitUntil: 'load' });
    await page.waitForSelector('#status.status-live', { timeout: 30_000 });
    const item = page.locator(`#mismatch-list li.linked[data-mismatch="sim:${m?.symbol}:1m:${m?.openTime}"]`);
    await expect.poll(() => item.count(), { timeout: 30_000 }).toBe(1);
    expect(await item.locator('.msg').innerText()).toMatch(/trades \d+ ≠ \d+ \(venue\)/);
    const btc = page.locator('#markets-body tr', { hasText: 'BTC-USDT' });
    await expect.poll(() => btc.locator('td.share').innerText(), { timeout: 30_000 }).toMatch(/^\d+\.\d%$/);
    expect(await btc.locator('td.share').getAttribute('class')).toContain('down');
    await item.click();
    await expect.poll(() => page.textContent('#chart-title')).toBe('BTC-USDT · sim');
    await expect.poll(async () => (await chartStats(page)).markers, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    await s.screenshot('dashboard-verification-dev.png');
    expect(s.unexpected()).toEqual([]);
  }, 300_000);
});
