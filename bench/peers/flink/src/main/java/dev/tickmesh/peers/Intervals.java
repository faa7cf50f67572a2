package dev.tickmesh.peers;

/** Candle intervals by tickmesh's names (`1m`, `5m`, `15m`, `1h`, ...), epoch-aligned. */
public final class Intervals {
  private Intervals() {}

  public static long millis(String name) {
    long n = Long.parseLong(name.substring(0, name.length() - 1));
    switch (name.charAt(name.length() - 1)) {
      case 's': return n * 1_000L;
      case 'm': return n * 60_000L;
      case 'h': return n * 3_600_000L;
      case 'd': return n * 86_400_000L;
      default: throw new IllegalArgumentException("unknown interval " + name);
    }
  }
}
