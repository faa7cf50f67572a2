import type { TrendPrediction } from '../actor/output.js';
import type { Alert, AlertKind, AlertSeverity } from '../market/alert.js';
import type { Candle } from '../market/candle.js';
import type { IndicatorValues } from '../market/indicator-values.js';
import type { Interval } from '../market/interval.js';
import type { CandleVerification } from '../verify/verification.js';
import type { Row } from './sql-driver.js';
import type { Checkpoint } from './store.js';
import type { StoredCandle } from './verification-store.js';

/** Rows of the candles, alerts and checkpoints tables as the domain's records, and back. */

export const iso = (ms: number): string => new Date(ms).toISOString();

export function bytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  throw new TypeError('expected bytea as bytes');
}

export function candleRow(c: Candle): Row {
  return {
    exchange: c.exchange,
    symbol: c.symbol,
    interval: c.interval,
    open_time: iso(c.openTime),
    close_time: iso(c.closeTime),
    market: c.market,
    open: c.open,
    high: c.high,
    low: c.low,
    close: c.close,
    volume: c.volume,
    quote_volume: c.quoteVolume,
    trades: c.trades,
    taker_buy_volume: c.takerBuyVolume,
    taker_buy_quote_volume: c.takerBuyQuoteVolume,
    vwap: c.vwap,
    first_trade_id: c.firstTradeId,
    last_trade_id: c.lastTradeId,
    revision: c.revision,
  };
}

/** The key columns of a row of a per-market series (candles, predictions). */
function seriesKey(r: Row) {
  return {
    exchange: r.exchange as string,
    symbol: r.symbol as string,
    market: r.market as string,
    interval: r.interval as Interval,
    openTime: Number(r.open_time),
  };
}

export function candleFromRow(r: Row): Candle {
  return {
    ...seriesKey(r),
    closeTime: Number(r.close_time),
    open: r.open as string,
    high: r.high as string,
    low: r.low as string,
    close: r.close as string,
    volume: r.volume as string,
    quoteVolume: r.quote_volume as string,
    trades: Number(r.trades),
    takerBuyVolume: r.taker_buy_volume as string,
    takerBuyQuoteVolume: r.taker_buy_quote_volume as string,
    vwap: r.vwap as string,
    firstTradeId: r.first_trade_id as string,
    lastTradeId: r.last_trade_id as string,
    revision: Number(r.revision),
    closed: true,
  };
}

/** A candle row with its verification, when the row holds one (of the row's revision). */
export function storedCandleFromRow(r: Row): StoredCandle {
  const candle = candleFromRow(r);
  if (r.verification_detail == null) return candle;
  return { ...candle, verification: JSON.parse(String(r.verification_detail)) as CandleVerification };
}

export function indicatorRow(v: IndicatorValues): Row {
  return {
    exchange: v.exchange,
    symbol: v.symbol,
    interval: v.interval,
    open_time: iso(v.openTime),
    market: v.market,
    vwap: finiteOrNull(v.vwap),
    volatility: finiteOrNull(v.volatility),
    imbalance: finiteOrNull(v.imbalance),
    sma: v.sma,
    ema: v.ema,
  };
}

export function indicatorFromRow(r: Row): IndicatorValues {
  return {
    exchange: r.exchange as string,
    symbol: r.symbol as string,
    market: r.market as string,
    interval: r.interval as Interval,
    openTime: Number(r.open_time),
    vwap: r.vwap == null ? null : Number(r.vwap),
    sma: JSON.parse(r.sma as string) as IndicatorValues['sma'],
    ema: JSON.parse(r.ema as string) as IndicatorValues['ema'],
    volatility: r.volatility == null ? null : Number(r.volatility),
    imbalance: r.imbalance == null ? null : Number(r.imbalance),
  };
}

/** JSON has no NaN or infinity: such a value is stored as null, as JSON.stringify would send it. */
function finiteOrNull(v: number | null): number | null {
  return v !== null && Number.isFinite(v) ? v : null;
}

/** The last value of each indicator key, in first-seen order (one row per key per statement). */
export function latestIndicators(values: readonly IndicatorValues[]): IndicatorValues[] {
  const byKey = new Map<string, IndicatorValues>();
  for (const v of values) byKey.set(`${v.exchange}\u0000${v.symbol}\u0000${v.interval}\u0000${v.openTime}`, v);
  return [...byKey.values()];
}

export function alertRow(a: Alert): Row {
  return {
    id: a.id,
    exchange: a.exchange,
    symbol: a.symbol,
    market: a.market,
    kind: a.kind,
    severity: a.severity,
    time: iso(a.time),
    interval: a.interval ?? null,
    message: a.message,
    evidence: a.evidence,
  };
}

export function alertFromRow(r: Row): Alert {
  const alert: Alert = {
    id: r.id as string,
    exchange: r.exchange as string,
    symbol: r.symbol as string,
    market: r.market as string,
    kind: r.kind as AlertKind,
    severity: r.severity as AlertSeverity,
    time: Number(r.time),
    message: r.message as string,
    evidence: JSON.parse(r.evidence as string) as Alert['evidence'],
  };
  return r.interval == null ? alert : { ...alert, interval: r.interval as Interval };
}

export function predictionRow(p: TrendPrediction): Row {
  return {
    exchange: p.exchange,
    symbol: p.symbol,
    interval: p.interval,
    open_time: iso(p.openTime),
    target_open_time: iso(p.targetOpenTime),
    market: p.market,
    p_up: p.pUp,
    baselines: p.baselines,
    scores: p.scores,
  };
}

export function predictionFromRow(r: Row): TrendPrediction {
  return {
    ...seriesKey(r),
    targetOpenTime: Number(r.target_open_time),
    pUp: Number(r.p_up),
    baselines: JSON.parse(r.baselines as string) as TrendPrediction['baselines'],
    scores: JSON.parse(r.scores as string) as TrendPrediction['scores'],
  };
}

/** The highest revision of each candle key, in first-seen order (one row per key per statement). */
export function latestRevisions(candles: readonly Candle[]): Candle[] {
  const byKey = new Map<string, Candle>();
  for (const c of candles) {
    const key = `${c.exchange}\u0000${c.symbol}\u0000${c.interval}\u0000${c.openTime}`;
    const seen = byKey.get(key);
    if (!seen || c.revision >= seen.revision) byKey.set(key, c);
  }
  return [...byKey.values()];
}

export function checkpointFrom(topic: string, partition: number, r: Row): Checkpoint | null {
  if (r.next_offset == null) return null;
  return {
    topic,
    partition,
    epoch: Number(r.epoch),
    nextOffset: BigInt(r.next_offset as string),
    state: r.state == null ? new Uint8Array(0) : bytes(r.state),
  };
}
