import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { VenueKline } from './kline.js';
import { createRequestBudget } from './request-budget.js';
import { createKlineSource } from './venue-klines.js';

/**
 * `tickmesh verify`'s OKX kline reader on a recorded OKX candles answer of a USDT-margined
 * contract (test/fixtures/okx-candles-rest-2025-05-12, SOURCE.md): two closed 1m candles whose
 * `vol` counts contracts (100 × the base volume). No OKX trades of those minutes were found, so
 * this proves the reader, not OKX's candle convention.
 */
const ANSWER = readFileSync(
  new URL('../../test/fixtures/okx-candles-rest-2025-05-12/http_get_candlesticks_full.json', import.meta.url),
  'utf8',
);
const M53 = Date.UTC(2025, 4, 12, 23, 53);
const M54 = M53 + 60_000;

async function read(symbol: string): Promise<{ klines: VenueKline[]; urls: URL[] }> {
  const urls: URL[] = [];
  const source = createKlineSource('okx', {
    restUrl: 'http://okx.test',
    fetch: (async (input: string | URL | Request) => {
      urls.push(new URL(String(input)));
      return new Response(ANSWER, { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch,
    budget: createRequestBudget(10),
  });
  if (source === undefined) throw new Error('no okx kline source');
  const klines: VenueKline[] = [];
  for await (const page of source.pages({
    symbol,
    interval: '1m',
    from: M53,
    to: M54 + 60_000,
    signal: AbortSignal.timeout(10_000),
  })) {
    klines.push(...page);
  }
  return { klines, urls };
}

describe('OKX recorded candles answer (a USDT-margined contract, 2025-05-12)', () => {
  it('reads both closed candles oldest first, the base volume from volCcy for a contract', async () => {
    const { klines, urls } = await read('BTC-USDT-SWAP');
    expect(klines).toEqual([
      {
        openTime: M53,
        open: '102806',
        high: '102820.5',
        low: '102783.1',
        close: '102806.1',
        volume: '71.6404',
        quoteVolume: '7364701.57952',
      },
      {
        openTime: M54,
        open: '102806.1',
        high: '102820.4',
        low: '102806.1',
        close: '102820.4',
        volume: '10.4037',
        quoteVolume: '1069603.34883',
      },
    ]);
    expect(urls).toHaveLength(1);
    expect(urls[0]?.pathname).toBe('/api/v5/market/history-candles');
    expect(urls[0]?.searchParams.get('bar')).toBe('1m');
  });

  it('takes vol as the base volume for a spot pair: read as spot, a contract answer would count contracts', async () => {
    const { klines } = await read('BTC-USDT');
    expect(klines.map((k) => k.volume)).toEqual(['7164.04', '1040.37']);
  });
});
