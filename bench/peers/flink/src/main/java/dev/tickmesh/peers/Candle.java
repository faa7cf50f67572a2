package dev.tickmesh.peers;

import java.math.BigDecimal;

/** One candle row as tickmesh's `candles` table holds it; exact decimals. A Flink POJO. */
public class Candle {
  public String exchange;
  public String symbol;
  public String interval;
  public long openTime;
  public long closeTime;
  public String market;
  public BigDecimal open;
  public BigDecimal high;
  public BigDecimal low;
  public BigDecimal close;
  public BigDecimal volume;
  public BigDecimal quoteVolume;
  public long trades;
  public BigDecimal takerBuyVolume;
  public BigDecimal takerBuyQuoteVolume;
  public BigDecimal vwap;
  public String firstTradeId;
  public String lastTradeId;
  public int revision;

  public Candle() {}
}
