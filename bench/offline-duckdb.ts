import { DuckDBInstance } from '@duckdb/node-api';

/**
 * The peer of `tickmesh candles` in the offline bench, run as its own process so that its time
 * and peak memory are its own: `tsx bench/offline-duckdb.ts TRADES.csv[.gz] OUT.csv THREADS`.
 * 1m OHLCV per symbol from a tardis trades CSV with exact decimals (DECIMAL, never DOUBLE),
 * CSV parsing included, written to OUT.csv as `symbol,open_time,open,high,low,close,volume,
 * quote_volume,trades,taker_buy_volume,taker_buy_quote_volume`. Open and close are the first
 * and last trade by (ms time, id), as klines pick them; quote amounts are summed at 38 digits.
 */
const [input, output, threads = '1'] = process.argv.slice(2);
if (input === undefined || output === undefined) {
  process.stderr.write('usage: tsx bench/offline-duckdb.ts TRADES.csv OUT.csv THREADS\n');
  process.exit(2);
}
const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;
const instance = await DuckDBInstance.create(':memory:', { threads });
const connection = await instance.connect();
const started = performance.now();
await connection.run(`COPY (
  SELECT symbol, (timestamp // 60000000) * 60000 AS open_time,
    arg_min(price, {t: timestamp // 1000, id: id}) AS open, max(price) AS high, min(price) AS low,
    arg_max(price, {t: timestamp // 1000, id: id}) AS close,
    sum(amount) AS volume, sum(price::DECIMAL(38, 8) * amount) AS quote_volume, count(*) AS trades,
    coalesce(sum(amount) FILTER (WHERE side = 'buy'), 0) AS taker_buy_volume,
    coalesce(sum(price::DECIMAL(38, 8) * amount) FILTER (WHERE side = 'buy'), 0) AS taker_buy_quote_volume
  FROM read_csv(${quote(input)}, header = true, delim = ',', columns = {
    exchange: 'VARCHAR', symbol: 'VARCHAR', timestamp: 'BIGINT', local_timestamp: 'BIGINT', id: 'BIGINT',
    side: 'VARCHAR', price: 'DECIMAL(18, 8)', amount: 'DECIMAL(18, 8)'})
  GROUP BY ALL ORDER BY symbol, open_time
) TO ${quote(output)} (HEADER false)`);
process.stdout.write(`${JSON.stringify({ queryMs: performance.now() - started })}\n`);
connection.closeSync();
instance.closeSync();
