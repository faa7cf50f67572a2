package dev.tickmesh.peers;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * The exact state of one candle window [start, end): BigDecimal prices and sums. Open and close
 * are the first and last trade by (event time, trade id), ids compared as numbers when both are
 * decimal integers, else as text: as tickmesh's candle window and Binance's klines pick them.
 */
public class CandleAccumulator {
  static final int VWAP_DECIMALS = 12;

  public long start;
  public long end;
  public long count;
  public BigDecimal open;
  public BigDecimal high;
  public BigDecimal low;
  public BigDecimal close;
  public long firstTime;
  public String firstId;
  public long lastTime;
  public String lastId;
  public BigDecimal volume = BigDecimal.ZERO;
  public BigDecimal quote = BigDecimal.ZERO;
  public BigDecimal buyVolume = BigDecimal.ZERO;
  public BigDecimal buyQuote = BigDecimal.ZERO;
  public int revision = -1;
  public boolean fired;

  public CandleAccumulator() {}

  public CandleAccumulator(long start, long end) {
    this.start = start;
    this.end = end;
  }

  public void add(long time, String id, BigDecimal price, BigDecimal size, BigDecimal notional, boolean buy, long n) {
    if (count == 0) {
      open = high = low = close = price;
      firstTime = lastTime = time;
      firstId = lastId = id;
    } else {
      if (price.compareTo(high) > 0) high = price;
      else if (price.compareTo(low) < 0) low = price;
      if (before(lastTime, lastId, time, id)) {
        close = price;
        lastTime = time;
        lastId = id;
      } else if (before(time, id, firstTime, firstId)) {
        open = price;
        firstTime = time;
        firstId = id;
      }
    }
    count += n;
    volume = volume.add(size);
    quote = quote.add(notional);
    if (buy) {
      buyVolume = buyVolume.add(size);
      buyQuote = buyQuote.add(notional);
    }
  }

  static boolean before(long t1, String id1, long t2, String id2) {
    if (t1 != t2) return t1 < t2;
    long n1 = numericId(id1);
    long n2 = numericId(id2);
    if (n1 >= 0 && n2 >= 0) return n1 < n2;
    return id1.compareTo(id2) < 0;
  }

  /** The id as a number when it is a decimal integer below 2^53, else -1. */
  static long numericId(String id) {
    int n = id.length();
    if (n == 0 || n > 15) return -1;
    long v = 0;
    for (int i = 0; i < n; i++) {
      char c = id.charAt(i);
      if (c < '0' || c > '9') return -1;
      v = v * 10 + (c - '0');
    }
    return v;
  }

  public Candle toCandle(String exchange, String symbol, String market, String interval) {
    Candle c = new Candle();
    c.exchange = exchange;
    c.symbol = symbol;
    c.market = market;
    c.interval = interval;
    c.openTime = start;
    c.closeTime = end - 1;
    c.open = open;
    c.high = high;
    c.low = low;
    c.close = close;
    c.volume = volume;
    c.quoteVolume = quote;
    c.trades = count;
    c.takerBuyVolume = buyVolume;
    c.takerBuyQuoteVolume = buyQuote;
    c.vwap = quote.divide(volume, VWAP_DECIMALS, RoundingMode.HALF_UP);
    c.firstTradeId = firstId;
    c.lastTradeId = lastId;
    c.revision = revision;
    return c;
  }
}
