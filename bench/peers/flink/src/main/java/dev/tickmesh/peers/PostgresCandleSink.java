package dev.tickmesh.peers;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.LinkedHashMap;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;

/**
 * Candles into PostgreSQL exactly once by idempotent upserts keyed like tickmesh's candles
 * (exchange, symbol, interval, open_time), a later revision replacing an earlier one. The writer
 * buffers rows (the latest revision of each key) and writes them in one transaction when the
 * buffer is full, on every checkpoint (flush before the barrier) and at the end of the input: a
 * restart replays from the last checkpoint and rewrites the same rows with the same values.
 */
public class PostgresCandleSink implements Sink<Candle> {
  private final String jdbcUrl;
  private final String table;
  private final int batchRows;

  public PostgresCandleSink(String jdbcUrl, String table, int batchRows) {
    this.jdbcUrl = jdbcUrl;
    this.table = table;
    this.batchRows = batchRows;
  }

  /** The same columns as tickmesh's `candles` table, without its monthly partitions. */
  public static String createTable(String table) {
    return "CREATE TABLE IF NOT EXISTS " + table + " (exchange text NOT NULL, symbol text NOT NULL,"
        + " \"interval\" text NOT NULL, open_time timestamptz NOT NULL, close_time timestamptz NOT NULL,"
        + " market text NOT NULL, open numeric NOT NULL, high numeric NOT NULL, low numeric NOT NULL,"
        + " close numeric NOT NULL, volume numeric NOT NULL, quote_volume numeric NOT NULL, trades bigint NOT NULL,"
        + " taker_buy_volume numeric NOT NULL, taker_buy_quote_volume numeric NOT NULL, vwap numeric NOT NULL,"
        + " first_trade_id text NOT NULL, last_trade_id text NOT NULL, revision integer NOT NULL,"
        + " PRIMARY KEY (exchange, symbol, \"interval\", open_time))";
  }

  @Override
  @SuppressWarnings("deprecation")
  public SinkWriter<Candle> createWriter(InitContext context) throws IOException {
    try {
      return new Writer();
    } catch (SQLException e) {
      throw new IOException(e);
    }
  }

  private final class Writer implements SinkWriter<Candle> {
    private final Connection db;
    private final PreparedStatement upsert;
    private final LinkedHashMap<String, Candle> rows = new LinkedHashMap<>();

    Writer() throws SQLException {
      db = DriverManager.getConnection(jdbcUrl);
      db.setAutoCommit(false);
      upsert = db.prepareStatement("INSERT INTO " + table + " (exchange, symbol, \"interval\", open_time, close_time,"
          + " market, open, high, low, close, volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume,"
          + " vwap, first_trade_id, last_trade_id, revision) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
          + " ON CONFLICT (exchange, symbol, \"interval\", open_time) DO UPDATE SET close_time = EXCLUDED.close_time,"
          + " market = EXCLUDED.market, open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,"
          + " close = EXCLUDED.close, volume = EXCLUDED.volume, quote_volume = EXCLUDED.quote_volume,"
          + " trades = EXCLUDED.trades, taker_buy_volume = EXCLUDED.taker_buy_volume,"
          + " taker_buy_quote_volume = EXCLUDED.taker_buy_quote_volume, vwap = EXCLUDED.vwap,"
          + " first_trade_id = EXCLUDED.first_trade_id, last_trade_id = EXCLUDED.last_trade_id,"
          + " revision = EXCLUDED.revision WHERE " + table + ".revision <= EXCLUDED.revision");
    }

    @Override
    public void write(Candle c, Context context) throws IOException {
      rows.put(c.exchange + '\u0000' + c.symbol + '\u0000' + c.interval + '\u0000' + c.openTime, c);
      if (rows.size() >= batchRows) flush(false);
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
      if (rows.isEmpty()) return;
      try {
        for (Candle c : rows.values()) {
          upsert.setString(1, c.exchange);
          upsert.setString(2, c.symbol);
          upsert.setString(3, c.interval);
          upsert.setTimestamp(4, new Timestamp(c.openTime));
          upsert.setTimestamp(5, new Timestamp(c.closeTime));
          upsert.setString(6, c.market);
          upsert.setBigDecimal(7, c.open);
          upsert.setBigDecimal(8, c.high);
          upsert.setBigDecimal(9, c.low);
          upsert.setBigDecimal(10, c.close);
          upsert.setBigDecimal(11, c.volume);
          upsert.setBigDecimal(12, c.quoteVolume);
          upsert.setLong(13, c.trades);
          upsert.setBigDecimal(14, c.takerBuyVolume);
          upsert.setBigDecimal(15, c.takerBuyQuoteVolume);
          upsert.setBigDecimal(16, c.vwap);
          upsert.setString(17, c.firstTradeId);
          upsert.setString(18, c.lastTradeId);
          upsert.setInt(19, c.revision);
          upsert.addBatch();
        }
        upsert.executeBatch();
        db.commit();
        rows.clear();
      } catch (SQLException e) {
        try {
          db.rollback();
        } catch (SQLException ignored) {
          // the connection is gone: the restart rewrites these rows
        }
        throw new IOException(e);
      }
    }

    @Override
    public void close() throws Exception {
      upsert.close();
      db.close();
    }
  }
}
