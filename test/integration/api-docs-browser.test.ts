import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_PATH } from '../../internal/serve/api-docs.js';
import { newApiKey, parseApiKeys } from '../../internal/serve/api-keys.js';
import type { ApiServer } from '../../internal/serve/api-server.js';
import { startStorelessApi } from '../../internal/serve/testing/storeless-api.js';
import { endpoint } from '../harness/env.js';

// The docs page in a real browser (Debian's Chromium, test/infra/chromium.sh): with keys on, it
// renders every operation of the document from files of this origin only, under its CSP.
let server: ApiServer;
let browser: Browser;
const { key, line } = newApiKey('docs');

beforeAll(async () => {
  server = await startStorelessApi({
    auth: { keys: parseApiKeys(line) },
    listen: { port: 0, host: '127.0.0.1' },
  });
  browser = await chromium.launch({
    executablePath: endpoint('CHROMIUM_PATH'),
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the docs page in a browser', () => {
  it('renders every operation, loads nothing from another origin, and breaks no CSP rule', async () => {
    const base = server.url as string;
    const page = await browser.newPage();
    const problems: string[] = [];
    const elsewhere: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
    });
    page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
    page.on('request', (req) => {
      if (!req.url().startsWith(base) && !req.url().startsWith('data:')) elsewhere.push(req.url());
    });
    await page.goto(`${base}${DOCS_PATH}?api_key=${encodeURIComponent(key)}`, { waitUntil: 'load' });
    await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 }).catch(async (err) => {
      throw new Error(
        `${err}; console: ${problems.join(' | ')}; body: ${(await page.textContent('body'))?.slice(0, 500)}`,
      );
    });
    const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path')));
    expect(paths).toEqual(expect.arrayContaining(['/api/v1/candles', '/api/v1/alerts', '/api/v1/stream', '/healthz']));
    expect(await page.textContent('body')).toContain('Decimal');
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);

    // Without the key the document is refused, and the page says so.
    const bare = await browser.newPage();
    await bare.goto(`${base}${DOCS_PATH}`, { waitUntil: 'load' });
    await bare.waitForSelector('.errors-wrapper, .loading-container .errors', { timeout: 30_000 });
    expect(await bare.textContent('body')).toMatch(/Failed to load API definition|Unauthorized/);
  }, 90_000);
});
