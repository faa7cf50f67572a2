import { VENUES, type Venue } from '../../market/markets.js';
import { ConfigError } from '../../runtime/errors.js';
import type { AdapterOptions, VenueAdapter } from '../venue.js';
import { type BinanceStream, createBinanceAdapter } from './binance.js';
import { createBybitAdapter } from './bybit.js';
import { createCoinbaseAdapter } from './coinbase.js';
import { createKrakenAdapter } from './kraken.js';
import { createOkxAdapter } from './okx.js';

/** Venues with a live adapter: every venue but `sim`, the simulator, which the ingestor handles. */
export type LiveVenue = Exclude<Venue, 'sim'>;
export const LIVE_VENUES: readonly LiveVenue[] = VENUES.filter((v): v is LiveVenue => v !== 'sim');

export interface VenueAdapterOptions extends AdapterOptions {
  /** Binance only: `trade` (default) or `aggTrade`. */
  readonly stream?: BinanceStream;
  readonly maxStreamsPerConnection?: number;
}

export function createAdapter(venue: string, options: VenueAdapterOptions): VenueAdapter {
  switch (venue) {
    case 'binance':
      return createBinanceAdapter({ ...options, market: 'spot' });
    case 'binance-futures':
      return createBinanceAdapter({ ...options, market: 'usdm' });
    case 'coinbase':
      return createCoinbaseAdapter(options);
    case 'kraken':
      return createKrakenAdapter(options);
    case 'okx':
      return createOkxAdapter(options);
    case 'bybit':
      return createBybitAdapter({ ...options, category: 'spot' });
    case 'bybit-linear':
      return createBybitAdapter({ ...options, category: 'linear' });
    default:
      throw new ConfigError(`unknown venue '${venue}' (known: ${LIVE_VENUES.join(', ')}, sim)`);
  }
}
