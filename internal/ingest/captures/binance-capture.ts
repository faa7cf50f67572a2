import { InputError } from '../../runtime/errors.js';
import type { VenueAdapter } from '../venue.js';
import { type BinanceStream, createBinanceAdapter } from '../venues/binance.js';
import type { CaptureHeader } from './capture-file.js';

export interface CaptureSource {
  readonly venue: 'binance' | 'binance-futures';
  readonly stream: BinanceStream;
  readonly symbols: string[];
  /** An adapter configured as the capture was subscribed, to parse its frames. No REST. */
  readonly adapter: VenueAdapter;
}

/**
 * What a Binance capture subscribed, read from its combined-stream URL
 * (`wss://fstream.binance.com/stream?streams=sushiusdt@aggTrade/...`). A capture that subscribed
 * both `@trade` and `@aggTrade` is read as `@trade` (every trade; aggTrades are ignored).
 */
export function binanceCaptureSource(header: CaptureHeader): CaptureSource {
  let url: URL;
  try {
    url = new URL(header.url);
  } catch (err) {
    throw new InputError('malformed-frame', 'capture header URL does not parse', { cause: err });
  }
  const venue = url.hostname.startsWith('fstream')
    ? 'binance-futures'
    : url.hostname.includes('binance')
      ? 'binance'
      : undefined;
  if (!venue) throw new InputError('unknown-symbol', 'capture was not recorded from a Binance stream host');
  const streams = (url.searchParams.get('streams') ?? '').split('/').filter(Boolean);
  const trades = streams.filter((s) => s.endsWith('@trade'));
  const aggs = streams.filter((s) => s.endsWith('@aggTrade'));
  const stream: BinanceStream = trades.length > 0 ? 'trade' : 'aggTrade';
  const symbols = (stream === 'trade' ? trades : aggs).map((s) => (s.split('@')[0] as string).toUpperCase());
  const adapter = createBinanceAdapter({
    market: venue === 'binance' ? 'spot' : 'usdm',
    stream,
    symbols,
    restUrl: '',
  });
  return { venue, stream, symbols, adapter };
}
