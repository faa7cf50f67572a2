import { describe, expect, it } from 'vitest';
import { canonicalMarket, splitConcatenated, venueSymbol } from './markets.js';

describe('canonicalMarket', () => {
  it.each([
    ['binance', 'BTCUSDT', 'BTC-USDT'],
    ['binance', 'LRCBTC', 'LRC-BTC'],
    ['binance', 'BLZETH', 'BLZ-ETH'],
    ['binance', 'RUNEEUR', 'RUNE-EUR'],
    ['binance', 'ethfdusd', 'ETH-FDUSD'],
    ['binance', 'BTCTUSD', 'BTC-TUSD'],
    ['binance', 'USDCUSDT', 'USDC-USDT'],
    ['binance', 'WBTCBTC', 'WBTC-BTC'],
    ['binance-futures', 'SUSHIUSDT', 'SUSHI-USDT'],
    ['binance-futures', 'BTCUSDT_250328', 'BTC-USDT-250328'],
    ['bybit', 'BTCUSDC', 'BTC-USDC'],
    ['coinbase', 'BTC-USD', 'BTC-USD'],
    ['kraken', 'BTC/USD', 'BTC-USD'],
    ['kraken', 'XBT/USD', 'BTC-USD'],
    ['kraken', 'XDG/EUR', 'DOGE-EUR'],
    ['okx', 'BTC-USDT', 'BTC-USDT'],
    ['okx', 'BTC-USDT-SWAP', 'BTC-USDT-SWAP'],
    ['sim', 'SOL-USD', 'SOL-USD'],
  ])('%s %s -> %s', (venue, symbol, market) => {
    expect(canonicalMarket(venue, symbol)).toBe(market);
  });

  it.each([
    ['binance', 'USDT'],
    ['binance', 'NOTAQUOTEXYZ'],
    ['binance', 'BTCUSDT_PERP'],
    ['binance', 'BTC USDT'],
    ['coinbase', 'BTCUSD'],
    ['kraken', 'XBTUSD'],
    ['okx', 'BTC-USDT-FOO'],
    ['nasdaq', 'AAPL'],
  ])('%s %s has no market', (venue, symbol) => {
    expect(canonicalMarket(venue, symbol)).toBeUndefined();
  });

  it('splits on the longest quote that leaves a base', () => {
    expect(splitConcatenated('BTCBUSD')).toEqual({ base: 'BTC', quote: 'BUSD' });
    expect(splitConcatenated('BTC')).toBeUndefined();
  });
});

describe('venueSymbol', () => {
  it('accepts canonical ids and venue spellings alike', () => {
    expect(venueSymbol('binance', 'BTC-USDT')).toBe('BTCUSDT');
    expect(venueSymbol('binance', 'btcusdt')).toBe('BTCUSDT');
    expect(venueSymbol('binance-futures', 'BTC-USDT-250328')).toBe('BTCUSDT_250328');
    expect(venueSymbol('kraken', 'XBT/USD')).toBe('BTC/USD');
    expect(venueSymbol('kraken', 'BTC-USD')).toBe('BTC/USD');
    expect(venueSymbol('coinbase', 'btc-usd')).toBe('BTC-USD');
    expect(venueSymbol('okx', 'BTC-USDT-SWAP')).toBe('BTC-USDT-SWAP');
  });

  it('refuses what does not map back to a market', () => {
    expect(venueSymbol('binance', 'FOO')).toBeUndefined();
    expect(venueSymbol('coinbase', 'BTCUSD')).toBeUndefined();
  });
});
