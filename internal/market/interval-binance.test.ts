import { describe, expect, it } from 'vitest';
import { type Interval, windowAfter, windowEnd, windowStart } from './interval.js';

/**
 * Open times of real Binance BTCUSDT klines, copied from recordings others made of the REST API
 * (docs/CANDLES.md, "Alignment evidence", names each file and commit). Every one must be a window
 * start of its interval, and the instant before it the last of the previous window.
 */
const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`);

const RECORDED: Record<'3d' | '1w' | '1M', readonly number[]> = {
  // AOL0311/binance BTCUSDT/BTC_USDT_3d.csv @4cbd799 (from 2017-08-17, the pair's first day) and
  // BTC_USDT/BTCUSDT_3Day.csv @b2a1eb5 (python-binance get_historical_klines, printed in UTC).
  '3d': [
    '2017-08-17',
    '2017-08-20',
    '2017-08-23',
    '2017-12-30',
    '2018-01-02',
    '2018-02-28',
    '2018-03-03',
    '2018-06-28',
    '2019-02-26',
    '2019-03-01',
    '2020-03-01',
    '2020-12-29',
    '2021-01-01',
    '2021-01-04',
    '2025-02-27',
    '2025-03-02',
    '2025-03-29',
    '2025-04-01',
    '2025-04-07',
  ].map(day),
  // BTC_USDT/BTCUSDT_1Week.csv @897ee94, and the kline of Binance's own API documentation
  // (binance-spot-api-docs rest-api.md: open 1499040000000, close 1499644799999).
  '1w': [1_499_040_000_000, ...['2020-03-02', '2020-12-28', '2021-01-04', '2024-01-01', '2024-02-26'].map(day)],
  // BTC_USDT/BTCUSDT_1Month.csv @897ee94.
  '1M': ['2020-03-01', '2020-12-01', '2021-01-01', '2024-02-01', '2024-03-01', '2025-02-01', '2025-04-01'].map(day),
};

describe("Binance's recorded kline open times", () => {
  for (const [interval, opens] of Object.entries(RECORDED) as [Interval, readonly number[]][]) {
    it(`every recorded ${interval} open is a window start`, () => {
      for (const t of opens) {
        expect(new Date(windowStart(interval, t)).toISOString()).toBe(new Date(t).toISOString());
        expect(windowStart(interval, windowEnd(interval, t) - 1)).toBe(t);
        expect(windowEnd(interval, windowStart(interval, t - 1))).toBe(t);
      }
      // Consecutive recordings are whole numbers of windows apart.
      for (let i = 1; i < opens.length; i++) {
        let n = 0;
        let w = opens[i - 1] as number;
        while (w < (opens[i] as number)) w = windowAfter(interval, opens[i - 1] as number, ++n);
        expect(w).toBe(opens[i]);
      }
    });
  }

  it('3d klines open one day after the multiples of three days from the epoch', () => {
    for (const t of RECORDED['3d']) expect(t % (3 * 86_400_000)).toBe(86_400_000);
  });

  it("the documentation's kline is a Monday-to-Sunday week", () => {
    expect(new Date(1_499_040_000_000).getUTCDay()).toBe(1);
    expect(windowEnd('1w', 1_499_040_000_000) - 1).toBe(1_499_644_799_999);
  });
});
