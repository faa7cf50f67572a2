import type { Alert } from '../market/alert.js';
import type { Candle } from '../market/candle.js';
import type { IndicatorValues } from '../market/indicator-values.js';
import type { Interval } from '../market/interval.js';
import type { Trade } from '../market/trade.js';
import type { ScoreReport } from './prequential.js';

export type { IndicatorValues };

/** What happened to one trade handed to MarketActor.onTrade. */
export type TradeOutcome =
  /** Added to open windows. */
  | 'accepted'
  /** Added to at least one closed window still within the allowed lateness: revisions were emitted. */
  | 'revised'
  /** Same trade id seen before in this market: counted, not added. */
  | 'duplicate'
  /** Its window is past the allowed lateness: counted and handed to `late`, not added. */
  | 'late'
  /** Cannot be represented exactly (bad decimal, zero, too many digits): counted and handed to `rejected`. */
  | 'rejected';

export interface LateTrade {
  readonly trade: Trade;
  /** The market's watermark when the trade arrived. */
  readonly watermark: number;
}

export type RejectedTradeReason = 'invalid-price' | 'invalid-size' | 'invalid-time' | 'precision';

export interface RejectedTrade {
  readonly trade: Trade;
  readonly reason: RejectedTradeReason;
}

/**
 * The trend model's forecast of one market and interval (trend-model.ts), made when a candle
 * first closes, for the next candle; with the running prequential scores of the model and of its
 * baselines: never a forecast without its record.
 */
export interface TrendPrediction {
  readonly exchange: string;
  readonly symbol: string;
  readonly market: string;
  readonly interval: Interval;
  /** Open time of the candle whose close produced the forecast (the last one it saw). */
  readonly openTime: number;
  /** Open time of the candle forecast. */
  readonly targetOpenTime: number;
  /** P(the target candle closes above this candle's close). */
  readonly pUp: number;
  readonly baselines: { readonly persistence: number; readonly majority: number; readonly coin: number };
  readonly scores: ScoreReport;
}

/**
 * Where an actor puts what it produces. The caller owns it, hands the same one to many actors
 * and many calls, and empties it (clearActorOutput) after taking the contents: actors never
 * allocate a batch per trade.
 */
export interface ActorOutput {
  /** Candles closed for the first time (revision 0), including empty ones, in close order. */
  readonly closed: Candle[];
  /** Candles closed before and changed by a late trade (revision >= 1). */
  readonly revised: Candle[];
  /** Current state of open windows (closed = false), rate-limited per market. */
  readonly partial: Candle[];
  /** With each partial update of a market, its latest trade (see PriceUpdate). */
  readonly prices: PriceUpdate[];
  /** One entry per closed candle (revision 0), in the same order as `closed`. */
  readonly indicators: IndicatorValues[];
  /** Trend forecasts, at most one per closed candle (revision 0) once the model is warm. */
  readonly predictions: TrendPrediction[];
  readonly alerts: Alert[];
  readonly late: LateTrade[];
  readonly rejected: RejectedTrade[];
}

/**
 * A market's latest trade: the close of its newest open window of the finest interval (`candle`),
 * and that trade's exchange event time (`time`). Not the window's close time: the price is as of
 * the trade, whatever the interval.
 */
export interface PriceUpdate {
  readonly candle: Candle;
  readonly time: number;
}

export function createActorOutput(): ActorOutput {
  return {
    closed: [],
    revised: [],
    partial: [],
    prices: [],
    indicators: [],
    predictions: [],
    alerts: [],
    late: [],
    rejected: [],
  };
}

export function clearActorOutput(out: ActorOutput): void {
  out.closed.length = 0;
  out.revised.length = 0;
  out.partial.length = 0;
  out.prices.length = 0;
  out.indicators.length = 0;
  out.predictions.length = 0;
  out.alerts.length = 0;
  out.late.length = 0;
  out.rejected.length = 0;
}

/** Cumulative per-market counts, kept in the checkpoint. */
export interface ActorCounters {
  /** Trade records added to candles (on time or revising). */
  accepted: number;
  /** Of those, records that revised a closed candle. */
  revisingTrades: number;
  duplicates: number;
  /** Records past the allowed lateness, handed to `late`. */
  late: number;
  rejected: number;
  closedCandles: number;
  emptyCandles: number;
  /** Empty candles never published because of config.emptyCandleLimit. */
  skippedEmptyCandles: number;
  revisedCandles: number;
  partialCandles: number;
  alerts: number;
  /** Trades whose id the market had seen but that were dated after every trade accepted: the venue reset its ids (TradeIdSet). */
  idResets: number;
}

export function zeroCounters(): ActorCounters {
  return {
    accepted: 0,
    revisingTrades: 0,
    duplicates: 0,
    late: 0,
    rejected: 0,
    closedCandles: 0,
    emptyCandles: 0,
    skippedEmptyCandles: 0,
    revisedCandles: 0,
    partialCandles: 0,
    alerts: 0,
    idResets: 0,
  };
}

export const COUNTER_NAMES = Object.keys(zeroCounters()) as (keyof ActorCounters)[];
