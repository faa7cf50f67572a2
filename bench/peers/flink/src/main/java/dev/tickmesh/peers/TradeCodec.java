package dev.tickmesh.peers;

import java.nio.charset.StandardCharsets;

/**
 * Reads tickmesh's trade records (docs/RECORD-FORMAT.md): `trade.v1` (one trade) and
 * `trade-batch.v1` (several trades of one market), little-endian, strings as a u8 length and
 * UTF-8. Decimals stay text until the caller parses them. A value that does not decode throws.
 */
public final class TradeCodec {
  public static final int TRADE_V1 = 1;
  public static final int TRADE_BATCH_V1 = 2;

  /** Receives each trade of a record in order. */
  public interface Visitor {
    void trade(boolean sell, long eventTime, String tradeId, String price, String size, long tradeCount);
  }

  /** Market identity of the record (set by decode). */
  public String exchange;
  public String symbol;
  public String market;

  private byte[] b;
  private int o;

  /** The newest event time in a record, without decoding its strings: the record's Flink timestamp. */
  public static long maxEventTime(int schema, byte[] v) {
    if (schema == TRADE_V1) return readTime(v, 2);
    int o = 2;
    long count = (v[o] & 0xffL) | (v[o + 1] & 0xffL) << 8 | (v[o + 2] & 0xffL) << 16 | (v[o + 3] & 0xffL) << 24;
    o += 4;
    for (int i = 0; i < 3; i++) o += 1 + (v[o] & 0xff);
    long max = Long.MIN_VALUE;
    for (long i = 0; i < count; i++) {
      int flags = v[o] & 0xff;
      long t = readTime(v, o + 1);
      if (t > max) max = t;
      o += 17;
      for (int j = 0; j < 3; j++) o += 1 + (v[o] & 0xff);
      if ((flags & 4) != 0) o += 4;
    }
    return max;
  }

  private static long readTime(byte[] v, int at) {
    long bits = 0;
    for (int i = 7; i >= 0; i--) bits = bits << 8 | (v[at + i] & 0xffL);
    return (long) Double.longBitsToDouble(bits);
  }

  public void decode(int schema, byte[] value, Visitor visitor) {
    b = value;
    o = 0;
    if (u8() != 1) throw new IllegalArgumentException("unsupported record version");
    if (schema == TRADE_V1) {
      int flags = u8();
      long eventTime = time();
      time();
      exchange = str();
      symbol = str();
      market = str();
      String id = str();
      String price = str();
      String size = str();
      long count = (flags & 4) != 0 ? u32() : 1;
      end();
      visitor.trade((flags & 1) != 0, eventTime, id, price, size, count);
      return;
    }
    u8();
    long count = u32();
    if (count < 1 || count > 1000) throw new IllegalArgumentException("bad trade count in batch");
    exchange = str();
    symbol = str();
    market = str();
    for (long i = 0; i < count; i++) {
      int flags = u8();
      long eventTime = time();
      time();
      String id = str();
      String price = str();
      String size = str();
      long n = (flags & 4) != 0 ? u32() : 1;
      visitor.trade((flags & 1) != 0, eventTime, id, price, size, n);
    }
    end();
  }

  private void end() {
    if (o != b.length) throw new IllegalArgumentException("record longer than its fields");
  }

  private int u8() {
    return b[o++] & 0xff;
  }

  private long u32() {
    long v = (b[o] & 0xffL) | (b[o + 1] & 0xffL) << 8 | (b[o + 2] & 0xffL) << 16 | (b[o + 3] & 0xffL) << 24;
    o += 4;
    return v;
  }

  /** A float64 millisecond time, always integral. */
  private long time() {
    long t = readTime(b, o);
    o += 8;
    return t;
  }

  private String str() {
    int n = u8();
    String s = new String(b, o, n, StandardCharsets.ISO_8859_1);
    for (int i = 0; i < n; i++) {
      if (b[o + i] < 0) {
        s = new String(b, o, n, StandardCharsets.UTF_8);
        break;
      }
    }
    o += n;
    return s;
  }
}
