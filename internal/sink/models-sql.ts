/**
 * The SQL models analysts query directly (migration 7): summaries of the candle table, built from
 * its 1m candles, refreshed by `tickmesh models refresh`. Sums and prices stay exact numerics;
 * volatilities are double precision. Times are UTC (hours and days of the UTC clock).
 *
 *   market_hourly, market_daily   OHLCV, trade counts, taker-buy volumes and VWAP per market and
 *                                 UTC hour / day (materialized)
 *   top_movers                    each day's markets ranked by the size of their move (a view)
 *   realized_volatility_daily     standard deviation of 1m log returns per market and day, scaled
 *                                 to the day and to a year of 365 days (materialized)
 *   cross_venue_spreads           per canonical market and minute traded on two or more venues:
 *                                 the spread of their 1m closes and the venues at each end
 *                                 (materialized)
 *
 * Materialized views are created empty (a migration on a large candle table would otherwise hold
 * the schema lock for as long as they take) and each has a unique index, so that a refresh after
 * the first runs CONCURRENTLY, without blocking readers.
 */
export const MODEL_VIEWS = [
  'market_hourly',
  'market_daily',
  'realized_volatility_daily',
  'cross_venue_spreads',
] as const;

const summary = (name: string, unit: 'hour' | 'day') => `
CREATE MATERIALIZED VIEW ${name} AS
SELECT exchange, symbol, market,
       date_trunc('${unit}', open_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS ${unit},
       (array_agg(open ORDER BY open_time))[1] AS open,
       max(high) AS high,
       min(low) AS low,
       (array_agg(close ORDER BY open_time DESC))[1] AS close,
       sum(volume) AS volume,
       sum(quote_volume) AS quote_volume,
       sum(trades)::bigint AS trades,
       sum(taker_buy_volume) AS taker_buy_volume,
       sum(taker_buy_quote_volume) AS taker_buy_quote_volume,
       CASE WHEN sum(volume) > 0 THEN round(sum(quote_volume) / sum(volume), 12) END AS vwap,
       count(*) AS candles
  FROM candles
 WHERE "interval" = '1m'
 GROUP BY exchange, symbol, market, 4
WITH NO DATA;
CREATE UNIQUE INDEX ${name}_key ON ${name} (exchange, symbol, ${unit});
`;

export const MODELS_MIGRATION_SQL = `
${summary('market_hourly', 'hour')}
${summary('market_daily', 'day')}
CREATE VIEW top_movers AS
SELECT day, exchange, symbol, market, open, close,
       round((close - open) / open * 100, 6) AS change_pct,
       rank() OVER (PARTITION BY day ORDER BY abs(close - open) / open DESC, exchange, symbol) AS rank
  FROM market_daily
 WHERE open > 0;

CREATE MATERIALIZED VIEW realized_volatility_daily AS
WITH r AS (
  SELECT exchange, symbol, market,
         date_trunc('day', open_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day,
         ln(close / lag(close) OVER (PARTITION BY exchange, symbol ORDER BY open_time)) AS r
    FROM candles
   WHERE "interval" = '1m' AND close > 0
)
SELECT exchange, symbol, market, day,
       count(r) AS returns,
       stddev_samp(r)::double precision AS sd_1m,
       (stddev_samp(r) * sqrt(1440::numeric))::double precision AS daily,
       (stddev_samp(r) * sqrt(525600::numeric))::double precision AS annualized
  FROM r
 GROUP BY exchange, symbol, market, day
WITH NO DATA;
CREATE UNIQUE INDEX realized_volatility_daily_key ON realized_volatility_daily (exchange, symbol, day);

CREATE MATERIALIZED VIEW cross_venue_spreads AS
SELECT market, open_time,
       count(*) AS venues,
       min(close) AS low_close,
       max(close) AS high_close,
       max(close) - min(close) AS spread,
       round((max(close) - min(close)) / min(close) * 10000, 4) AS spread_bps,
       (array_agg(exchange ORDER BY close, exchange))[1] AS low_venue,
       (array_agg(exchange ORDER BY close DESC, exchange))[1] AS high_venue
  FROM candles
 WHERE "interval" = '1m' AND trades > 0 AND close > 0
 GROUP BY market, open_time
HAVING count(DISTINCT exchange) >= 2
WITH NO DATA;
CREATE UNIQUE INDEX cross_venue_spreads_key ON cross_venue_spreads (market, open_time);
`;

/** Whether each model view holds data (a first refresh cannot be CONCURRENTLY). */
export const MODELS_POPULATED = `SELECT matviewname, ispopulated FROM pg_matviews WHERE schemaname = current_schema()`;
