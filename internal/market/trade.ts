/**
 * A normalized trade: what every venue adapter, replay format and the simulator produce,
 * and the only thing the worker consumes. Immutable once built.
 *
 * Prices and sizes stay decimal strings exactly as the venue printed them (no float ever
 * touches them on the way in); the actor core turns them into scaled integers.
 */
export type TakerSide = 'buy' | 'sell';

export interface Trade {
  /** Venue id, lowercase: `binance`, `binance-futures`, `coinbase`, `kraken`, `sim`. */
  readonly exchange: string;
  /** The venue's own symbol, as it spells it: `BTCUSDT`, `BTC-USD`, `BTC/USD`. */
  readonly symbol: string;
  /** Canonical market id, `BASE-QUOTE` uppercase: `BTC-USDT`. */
  readonly market: string;
  /** The venue's trade id, as a decimal string where the venue numbers its trades. */
  readonly tradeId: string;
  /** Positive decimal string, e.g. `9663.21`. */
  readonly price: string;
  /** Positive decimal string in base units, e.g. `0.004`. */
  readonly size: string;
  /** The side of the aggressor (taker). Binance's `isBuyerMaker=true` means a taker sell. */
  readonly side: TakerSide;
  /** Exchange event (trade) time, Unix epoch milliseconds. Windows use this, never receiveTime. */
  readonly eventTime: number;
  /** Local receive time, Unix epoch milliseconds. */
  readonly receiveTime: number;
  /** Present and true only on trades the built-in market simulator made up. */
  readonly simulated?: boolean;
  /**
   * How many exchange trades this record stands for, when the venue aggregates them (a Binance
   * aggTrade fills several orders of one taker at one price). Absent means 1. Candles count
   * trades by it, so klines built from aggregate trades keep the exchange's trade count.
   */
  readonly tradeCount?: number;
}

/** Kafka record key: one market always lands in one partition. */
export function tradeKey(t: Pick<Trade, 'exchange' | 'symbol'>): string {
  return `${t.exchange}:${t.symbol}`;
}
