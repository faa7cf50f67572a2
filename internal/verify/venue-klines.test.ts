import { describe, expect, it } from 'vitest';
import { createRequestBudget } from './request-budget.js';
import { createKlineSource } from './venue-klines.js';

const MIN = 60_000;
const T0 = 1582329600000;

/** A fetch answering from `answer(url)`, recording each URL. */
function fakeFetch(answer: (url: URL, n: number) => Response): { fetch: typeof fetch; urls: URL[] } {
  const urls: URL[] = [];
  return {
    urls,
    fetch: async (input) => {
      const url = new URL(String(input));
      urls.push(url);
      return answer(url, urls.length);
    },
  };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers });

async function collect(source: NonNullable<ReturnType<typeof createKlineSource>>, from: number, to: number) {
  const pages = [];
  for await (const p of source.pages({
    symbol: 'BTCUSDT',
    interval: '1m',
    from,
    to,
    signal: AbortSignal.timeout(10_000),
  })) {
    pages.push(p);
  }
  return pages;
}

function binanceRow(t: number): unknown[] {
  return [t, '1.0', '2', '0.5', '1.5', '10', t + MIN - 1, '15', 3, '4', '6', '0'];
}

describe('Binance klines', () => {
  it('pages forward 1000 windows a request and backs off a 429 for its Retry-After', async () => {
    const f = fakeFetch((url, n) => {
      if (n === 2) return json({ code: -1003 }, 429, { 'retry-after': '0.2' });
      const start = Number(url.searchParams.get('startTime'));
      const end = Number(url.searchParams.get('endTime'));
      const rows = [];
      for (let t = start; t <= end; t += MIN) rows.push(binanceRow(t));
      return json(rows);
    });
    const waits: number[] = [];
    const source = createKlineSource('binance-futures', {
      restUrl: 'http://venue.test',
      fetch: f.fetch,
      budget: createRequestBudget(1000),
      onRetry: (_e, _a, delay) => waits.push(delay),
    });
    if (!source) throw new Error('no source');
    const started = Date.now();
    const pages = await collect(source, T0, T0 + 2500 * MIN);
    expect(pages.map((p) => p.length)).toEqual([1000, 1000, 500]);
    expect(pages[1]?.[0]).toMatchObject({ openTime: T0 + 1000 * MIN, trades: 3, takerBuyQuoteVolume: '6' });
    expect(f.urls.map((u) => u.pathname)).toEqual(Array(4).fill('/fapi/v1/klines'));
    expect(f.urls[0]?.searchParams.get('limit')).toBe('1000');
    expect(f.urls[1]?.searchParams.get('startTime')).toBe(f.urls[2]?.searchParams.get('startTime'));
    expect(waits[0]).toBeGreaterThanOrEqual(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('refuses an answer that is not klines', async () => {
    const f = fakeFetch(() => json([[T0, 'x', '1', '1', '1', '1']]));
    const source = createKlineSource('binance', {
      restUrl: 'http://v',
      fetch: f.fetch,
      budget: createRequestBudget(100),
    });
    await expect(collect(source as NonNullable<typeof source>, T0, T0 + MIN)).rejects.toThrow(/plain decimal/);
  });
});

describe('Bybit and OKX klines', () => {
  it('reads Bybit newest first into open time order', async () => {
    const f = fakeFetch(() =>
      json({
        retCode: 0,
        retMsg: 'OK',
        result: {
          list: [
            [String(T0 + MIN), '2', '3', '1', '2.5', '7', '17.5'],
            [String(T0), '1', '2', '1', '2', '5', '10'],
          ],
        },
      }),
    );
    const source = createKlineSource('bybit', {
      restUrl: 'http://v',
      fetch: f.fetch,
      budget: createRequestBudget(100),
    });
    const [page] = await collect(source as NonNullable<typeof source>, T0, T0 + 2 * MIN);
    expect(page?.map((k) => [k.openTime, k.quoteVolume])).toEqual([
      [T0, '10'],
      [T0 + MIN, '17.5'],
    ]);
    expect(f.urls[0]?.search).toBe(
      `?category=spot&symbol=BTCUSDT&interval=1&start=${T0}&end=${T0 + 2 * MIN - 1}&limit=1000`,
    );
  });

  it('asks OKX by after/before 100 a page and leaves out unconfirmed candles', async () => {
    const f = fakeFetch(() =>
      json({
        code: '0',
        msg: '',
        data: [
          [String(T0 + MIN), '2', '3', '1', '2.5', '7', '17.5', '17.5', '0'],
          [String(T0), '1', '2', '1', '2', '5', '10', '10', '1'],
        ],
      }),
    );
    const source = createKlineSource('okx', { restUrl: 'http://v', fetch: f.fetch, budget: createRequestBudget(100) });
    const pages = await collect(source as NonNullable<typeof source>, T0, T0 + 150 * MIN);
    expect(pages[0]?.map((k) => k.openTime)).toEqual([T0]);
    expect(f.urls.length).toBe(2);
    expect(f.urls[0]?.searchParams.get('after')).toBe(String(T0 + 99 * MIN + 1));
    expect(f.urls[0]?.searchParams.get('before')).toBe(String(T0 - 1));
  });
});

describe('Coinbase candles', () => {
  it('reads JSON-number decimals from their own text, 300 a page, seconds to ms', async () => {
    const body =
      '[[1582329660,9666.66,9683.5,9681.93,9673.15,70.843],[1582329600,0.1,1e-05,0.10000000000000001,2.5E-7,12]]';
    const f = fakeFetch(() => new Response(body));
    const source = createKlineSource('coinbase', {
      restUrl: 'http://v',
      fetch: f.fetch,
      budget: createRequestBudget(100),
    });
    const pages = await collect(source as NonNullable<typeof source>, T0, T0 + 301 * MIN);
    expect(pages.map((p) => p.length)).toEqual([2, 0]);
    expect(pages[0]?.[0]).toEqual({
      openTime: T0,
      low: '0.1',
      high: '0.00001',
      open: '0.10000000000000001',
      close: '0.00000025',
      volume: '12',
    });
    expect(pages[0]?.[1]).toMatchObject({ openTime: T0 + MIN, open: '9681.93', high: '9683.5', low: '9666.66' });
    expect(f.urls[0]?.pathname).toBe('/products/BTCUSDT/candles');
    expect(f.urls[0]?.searchParams.get('granularity')).toBe('60');
    expect(f.urls[1]?.searchParams.get('start')).toBe(new Date(T0 + 300 * MIN).toISOString());
  });
});

describe('Kraken OHLC', () => {
  it('reads the committed rows with VWAP and count, leaves out the open window, and asks since the page start', async () => {
    // The documented answer's shape (Kraken REST, "Get OHLC Data"): the last row is the open window.
    const s = T0 / 1000;
    const body = {
      error: [],
      result: {
        XXBTZUSD: [
          [s, '9681.4', '9684.7', '9681.3', '9682.3', '9683.0', '35.785', 91],
          [s + 60, '9681.9', '9683.5', '9666.6', '9673.1', '9675.2', '70.843', 176],
          [s + 120, '9673.8', '9678.6', '9666.8', '9668.7', '9670.0', '1.5', 3],
        ],
        last: s + 60,
      },
    };
    const f = fakeFetch(() => json(body));
    const source = createKlineSource('kraken', {
      restUrl: 'http://v',
      fetch: f.fetch,
      budget: createRequestBudget(100),
    });
    const [page] = await collect(source as NonNullable<typeof source>, T0, T0 + 3 * MIN);
    expect(page?.map((k) => k.openTime)).toEqual([T0, T0 + MIN]);
    expect(page?.[1]).toEqual({
      openTime: T0 + MIN,
      open: '9681.9',
      high: '9683.5',
      low: '9666.6',
      close: '9673.1',
      vwap: '9675.2',
      volume: '70.843',
      trades: 176,
    });
    expect(f.urls[0]?.pathname).toBe('/0/public/OHLC');
    expect(f.urls[0]?.searchParams.get('interval')).toBe('1');
    expect(f.urls[0]?.searchParams.get('since')).toBe(String(s - 1));
  });

  it('treats "Too many requests" as a rate limit and retries, and refuses another error', async () => {
    let n = 0;
    const f = fakeFetch(() =>
      ++n === 1
        ? json({ error: ['EAPI:Too many requests'] })
        : json({ error: [], result: { XXBTZUSD: [], last: T0 / 1000 } }),
    );
    const retries: unknown[] = [];
    const source = createKlineSource('kraken', {
      restUrl: 'http://v',
      fetch: f.fetch,
      budget: createRequestBudget(100),
      onRetry: (err) => retries.push(err),
    });
    const pages = await collect(source as NonNullable<typeof source>, T0, T0 + MIN);
    expect(pages).toEqual([[]]);
    expect(retries).toHaveLength(1);
    const refused = createKlineSource('kraken', {
      restUrl: 'http://v',
      fetch: fakeFetch(() => json({ error: ['EQuery:Unknown asset pair'] })).fetch,
      budget: createRequestBudget(100),
      maxAttempts: 1,
    });
    await expect(collect(refused as NonNullable<typeof refused>, T0, T0 + MIN)).rejects.toThrow(/Unknown asset pair/);
  });
});
