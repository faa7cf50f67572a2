import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnDev } from '../harness/dev-process.js';
import { endpoint } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { freePort } from '../harness/private-servers.js';

/**
 * The web dashboard of `tickmesh dev` in a real browser: Debian's Chromium (test/infra/chromium.sh)
 * driven by playwright-core, against the real command run as a child process with the exchange
 * unreachable (so on the market simulator). The page must load without a console error, list the
 * markets, draw candles, update live, say that the data is simulated, and come back by itself
 * after the API process is killed and started again on the same port.
 *
 * Screenshots are written to a temporary folder; with TICKMESH_UPDATE_SCREENSHOTS=1 they are
 * also copied to docs/img/ (docs/DASHBOARD.md shows them).
 */

const DOCS_IMG = fileURLToPath(new URL('../../docs/img/', import.meta.url));
const VIEWPORT = { width: 1200, height: 720 };

interface Dev {
  readonly child: ChildProcess;
  /** The API's base URL, once it listens. */
  readonly url: Promise<string>;
  readonly exited: Promise<number | null>;
}

/** Runs `tickmesh dev` on the simulator with its API on `port`. */
function startDev(port: number): Dev {
  const child = spawnDev(['--ws-url', 'ws://127.0.0.1:1/stream', '--rate', '30', '--api-port', String(port)]);
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
    void exited.then((code) => reject(new Error(`tickmesh dev exited (${code}) before listening:\n${stderr}`)));
  });
  return { child, url, exited };
}

interface PageGlobals {
  readonly document: {
    readonly documentElement: unknown;
    getElementById(id: string): {
      readonly width: number;
      readonly height: number;
      getContext(
        kind: '2d',
      ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
    } | null;
  };
  getComputedStyle(element: unknown): { getPropertyValue(name: string): string };
}

/** Pixels of the chart canvas painted in the up or down candle colour. */
function candlePixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    // The page's globals, typed here: the project compiles without the DOM library.
    const { document, getComputedStyle } = globalThis as unknown as PageGlobals;
    const canvas = document.getElementById('chart');
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx || canvas.width === 0 || canvas.height === 0) return 0;
    const style = getComputedStyle(document.documentElement);
    const rgb = (name: string) => {
      const hex = style.getPropertyValue(name).trim().slice(1);
      return [0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
    };
    const colors = [rgb('--up'), rgb('--down')];
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if ((data[i + 3] as number) < 100) continue;
      const near = colors.some((c) => c.every((v, k) => Math.abs(v - (data[i + k] as number)) <= 10));
      if (near) n++;
    }
    return n;
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

describe('the web dashboard of tickmesh dev in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let port: number;
  let shots: string;
  const devs: Dev[] = [];
  /** Console errors and uncaught page errors, each with the phase it happened in. */
  const problems: { phase: string; text: string }[] = [];
  let phase = 'load';

  async function screenshot(name: string): Promise<void> {
    const path = join(shots, name);
    await page.screenshot({ path, type: 'png' });
    expect((await stat(path)).size).toBeGreaterThan(10_000);
    if (process.env.TICKMESH_UPDATE_SCREENSHOTS === '1') await copyFile(path, join(DOCS_IMG, name));
  }

  beforeAll(async () => {
    shots = await mkdtemp(join(tmpdir(), 'tickmesh-shots-'));
    port = await freePort();
    devs.push(startDev(port));
    browser = await chromium.launch({
      executablePath: endpoint('CHROMIUM_PATH'),
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push({ phase, text: msg.text() });
    });
    page.on('pageerror', (err) => problems.push({ phase, text: `uncaught: ${err.message}` }));
  });

  afterAll(async () => {
    await browser?.close();
    for (const d of devs) if (d.child.exitCode === null) d.child.kill('SIGKILL');
    if (shots) await rm(shots, { recursive: true, force: true });
  });

  it('loads without console errors, lists the markets, draws candles, updates live, and says the data is simulated', async () => {
    const url = await (devs[0] as Dev).url;
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

    // The first market is selected and its candles drawn.
    expect(await page.textContent('#chart-title')).toBe('BNB-USDT · sim');
    await expect.poll(() => candlePixels(page), { timeout: 20_000, interval: 250 }).toBeGreaterThan(50);

    // Live: the open candles move within seconds, and so does the message count.
    await changes(page, await marketRows(page), 5_000);
    // The footer's message count, written once a second (0 until it first is).
    const messages = async () =>
      Number((await page.innerText('#stream-stats')).match(/stream: ([\d,]+)/)?.[1]?.replaceAll(',', '') ?? 0);
    await expect.poll(messages, { timeout: 5_000, interval: 250 }).toBeGreaterThan(0);
    const before = await messages();
    await expect.poll(messages, { timeout: 5_000, interval: 250 }).toBeGreaterThan(before);

    expect(await page.isVisible('#error-banner')).toBe(false);
    await screenshot('dashboard.png');
    expect(problems).toEqual([]);
  }, 120_000);

  it('reconnects, resubscribes and updates again when the API process is killed and started again', async () => {
    const first = devs[0] as Dev;
    phase = 'outage';
    first.child.kill('SIGKILL');
    await first.exited;
    await page.waitForSelector('#status.status-down', { timeout: 10_000 });
    expect(await page.innerText('#status')).toContain('retrying');
    const frozen = await marketRows(page);
    await page.waitForTimeout(1_000);
    expect(await marketRows(page)).toEqual(frozen);
    await screenshot('dashboard-reconnecting.png');

    const second = startDev(port);
    devs.push(second);
    expect(await second.url).toBe(`http://127.0.0.1:${port}`);
    // The page retries with a backoff capped at 10 s; the new process then takes its subscription.
    await page.waitForSelector('#status.status-live', { timeout: 60_000 });
    phase = 'after';
    await changes(page, await marketRows(page), 10_000);
    await expect.poll(() => candlePixels(page), { timeout: 20_000, interval: 250 }).toBeGreaterThan(50);
    expect(await page.isVisible('#sim-banner')).toBe(true);

    // While the API was gone the browser reported the failed connection attempts, and nothing else.
    const unexpected = problems.filter(
      (p) => p.phase !== 'outage' || !/WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/.test(p.text),
    );
    expect(unexpected).toEqual([]);
  }, 180_000);
});
