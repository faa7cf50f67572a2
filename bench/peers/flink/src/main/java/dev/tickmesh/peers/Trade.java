package dev.tickmesh.peers;

import java.math.BigDecimal;

/** One decoded trade, for the window-operator-per-interval variant. A Flink POJO. */
public class Trade {
  public String key;
  public String exchange;
  public String symbol;
  public String market;
  public long time;
  public String id;
  public BigDecimal price;
  public BigDecimal size;
  public BigDecimal notional;
  public boolean buy;
  public long count;

  public Trade() {}
}
