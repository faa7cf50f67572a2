package dev.tickmesh.peers;

import java.util.ArrayList;

/** The keyed state of one market: its identity and, per interval, the windows still open or revisable. */
public class MarketWindows {
  public String exchange;
  public String symbol;
  public String market;
  public ArrayList<ArrayList<CandleAccumulator>> windows;

  public MarketWindows() {}

  public MarketWindows(int intervals) {
    windows = new ArrayList<>(intervals);
    for (int i = 0; i < intervals; i++) windows.add(new ArrayList<>(2));
  }
}
