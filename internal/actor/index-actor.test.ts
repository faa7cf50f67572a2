import { describe, expect, it } from 'vitest';
import { IndexActor, type PriceUpdate } from './index-actor.js';

const T = Date.UTC(2024, 0, 1);

function update(exchange: string, price: string, volume: string, time = T, openTime = T): PriceUpdate {
  return { exchange, symbol: 'BTCUSDT', market: 'BTC-USDT', price, volume, time, openTime };
}

describe('IndexActor', () => {
  it('is the volume-weighted median of the venues', () => {
    const a = new IndexActor('BTC');
    a.onPrice(update('binance', '100', '10'));
    a.onPrice(update('coinbase', '101', '1'));
    const { index } = a.onPrice(update('kraken', '102', '1'));
    // Binance holds more than half the weight: the median is its price, not the middle one.
    expect(index?.price).toBe(100);
    expect(index?.venues.map((v) => v.key)).toEqual(['binance:BTCUSDT', 'coinbase:BTCUSDT', 'kraken:BTCUSDT']);
  });

  it('falls back to the plain median when no venue has volume', () => {
    const a = new IndexActor('BTC');
    a.onPrice(update('binance', '100', '0'));
    expect(a.onPrice(update('coinbase', '104', '0')).index?.price).toBe(102);
  });

  it('leaves stale venues out and ignores out-of-order updates', () => {
    const a = new IndexActor('BTC', { staleAfterMs: 1_000, divergenceBps: 100, minVenues: 2, volumeAlpha: 0.3 });
    a.onPrice(update('binance', '100', '1'));
    expect(a.onPrice(update('coinbase', '200', '1', T + 5_000)).index?.venues).toHaveLength(1);
    expect(a.onPrice(update('coinbase', '300', '1', T + 4_000)).index).toBeUndefined();
  });

  it('raises one divergence alert per episode, against the cross-venue index', () => {
    const a = new IndexActor('BTC');
    a.onPrice(update('binance', '100', '5'));
    a.onPrice(update('coinbase', '100.1', '5'));
    expect(a.onPrice(update('kraken', '100.05', '5')).alerts).toEqual([]);
    const first = a.onPrice(update('kraken', '103', '5', T + 1));
    expect(first.alerts).toHaveLength(1);
    expect(first.alerts[0]).toMatchObject({ kind: 'divergence', exchange: 'kraken', severity: 'warning' });
    expect(Number(first.alerts[0]?.evidence.bps)).toBeCloseTo(((103 - 100.1) / 100.1) * 10_000, 6);
    expect(a.onPrice(update('kraken', '103.5', '5', T + 2)).alerts).toEqual([]);
    a.onPrice(update('kraken', '100.02', '5', T + 3));
    expect(a.onPrice(update('kraken', '97', '5', T + 4)).alerts).toHaveLength(1);
  });

  it('does not judge divergence with too few venues', () => {
    const a = new IndexActor('BTC');
    a.onPrice(update('binance', '100', '1'));
    expect(a.onPrice(update('coinbase', '150', '1')).alerts).toEqual([]);
  });

  it('gives its divergence flags to the next owner, which neither repeats nor misses an alert', () => {
    const a = new IndexActor('BTC');
    a.onPrice(update('binance', '100', '5'));
    a.onPrice(update('coinbase', '100.1', '5'));
    a.onPrice(update('kraken', '100.05', '5'));
    const raised = a.onPrice(update('kraken', '103', '5', T + 1));
    expect([raised.alerts.length, raised.divergingChanged]).toEqual([1, true]);
    expect(a.diverging()).toEqual(['kraken:BTCUSDT']);
    expect(a.onPrice(update('kraken', '103.5', '5', T + 2)).divergingChanged).toBe(false);

    // The next owner: the same prices again, from the stored flags.
    const b = new IndexActor('BTC');
    b.restore(a.diverging());
    expect(b.diverging()).toEqual(['kraken:BTCUSDT']);
    b.onPrice(update('binance', '100', '5', T + 3));
    b.onPrice(update('coinbase', '100.1', '5', T + 3));
    expect(b.onPrice(update('kraken', '103.6', '5', T + 3)).alerts).toEqual([]);
    const back = b.onPrice(update('kraken', '100.02', '5', T + 4));
    expect([back.alerts.length, back.divergingChanged, b.diverging()]).toEqual([0, true, []]);
    expect(b.onPrice(update('kraken', '97', '5', T + 5)).alerts).toHaveLength(1);

    // Without the flags, the same divergence is raised twice.
    const fresh = new IndexActor('BTC');
    fresh.onPrice(update('binance', '100', '5', T + 3));
    fresh.onPrice(update('coinbase', '100.1', '5', T + 3));
    expect(fresh.onPrice(update('kraken', '103.6', '5', T + 3)).alerts).toHaveLength(1);
  });
});
