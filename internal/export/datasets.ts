/**
 * What `tickmesh export` can write (pure): per data set, its columns (the SQL that reads each as
 * exact text, and its Parquet type) and the range query over the store's tables.
 *
 * Numeric columns of the candle table are exact decimals: as DECIMAL(38, 18) in Parquet (every
 * value tickmesh stores fits: prices and sizes as the venues print them, VWAP at 12 places) and as
 * PostgreSQL prints them in CSV. Indicators are floating point where the table has them so.
 * Times are UTC.
 */
export const DATASETS = ['candles', 'indicators', 'alerts'] as const;
export type Dataset = (typeof DATASETS)[number];

export type ColumnType = 'VARCHAR' | 'TIMESTAMP' | 'DECIMAL(38, 18)' | 'BIGINT' | 'INTEGER' | 'DOUBLE';

export interface Column {
  readonly name: string;
  /** The select expression, as text. */
  readonly sql: string;
  readonly type: ColumnType;
}

export interface ExportRange {
  readonly exchange: string;
  readonly symbol: string;
  /** Candles and indicators: required; alerts: only those of this interval when given. */
  readonly interval: string | undefined;
  /** [from, to) on open time (candles, indicators) or the alert's time; epoch ms. */
  readonly from: number;
  readonly to: number;
}

const text = (name: string): Column => ({ name, sql: `${quote(name)}::text`, type: 'VARCHAR' });
const decimal = (name: string): Column => ({ name, sql: `${quote(name)}::text`, type: 'DECIMAL(38, 18)' });
const utc = (name: string): Column => ({
  name,
  sql: `to_char(${quote(name)} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS')`,
  type: 'TIMESTAMP',
});
const typed = (name: string, type: ColumnType): Column => ({ name, sql: `${quote(name)}::text`, type });
function quote(name: string): string {
  return name === 'interval' ? '"interval"' : name;
}

export const COLUMNS: Readonly<Record<Dataset, readonly Column[]>> = {
  candles: [
    text('exchange'),
    text('symbol'),
    text('interval'),
    utc('open_time'),
    utc('close_time'),
    text('market'),
    ...['open', 'high', 'low', 'close', 'volume', 'quote_volume'].map(decimal),
    typed('trades', 'BIGINT'),
    ...['taker_buy_volume', 'taker_buy_quote_volume', 'vwap'].map(decimal),
    text('first_trade_id'),
    text('last_trade_id'),
    typed('revision', 'INTEGER'),
  ],
  indicators: [
    text('exchange'),
    text('symbol'),
    text('interval'),
    utc('open_time'),
    text('market'),
    typed('vwap', 'DOUBLE'),
    typed('volatility', 'DOUBLE'),
    typed('imbalance', 'DOUBLE'),
    text('sma'),
    text('ema'),
  ],
  alerts: [
    text('id'),
    text('exchange'),
    text('symbol'),
    text('market'),
    text('kind'),
    text('severity'),
    utc('time'),
    text('interval'),
    text('message'),
    text('evidence'),
  ],
};

/** The data set's rows in the range, in key order, and their count; parameters $1..$5. */
export function rangeQuery(dataset: Dataset, range: ExportRange): { sql: string; countSql: string; params: unknown[] } {
  const time = dataset === 'alerts' ? 'time' : 'open_time';
  const order = dataset === 'alerts' ? 'time, id' : 'open_time';
  const params: unknown[] = [range.exchange, range.symbol, new Date(range.from), new Date(range.to)];
  let where = `exchange = $1 AND symbol = $2 AND ${time} >= $3 AND ${time} < $4`;
  if (range.interval !== undefined) {
    params.push(range.interval);
    where += ` AND "interval" = $5`;
  }
  const columns = COLUMNS[dataset].map((c) => `${c.sql} AS ${quote(c.name)}`).join(', ');
  return {
    sql: `SELECT ${columns} FROM ${dataset} WHERE ${where} ORDER BY ${order}`,
    countSql: `SELECT count(*) FROM ${dataset} WHERE ${where}`,
    params,
  };
}

/** A DECIMAL(38, 18) holds it exactly (an optional sign, at most 20 + 18 digits). */
const DECIMAL_38_18 = /^-?\d{1,20}(\.\d{1,18})?$/;

export function fitsDecimal(value: string): boolean {
  return DECIMAL_38_18.test(value);
}
