package dev.tickmesh.peers;

import java.time.Duration;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/**
 * The textbook shape: records decoded into trades (timestamps and per-partition watermarks from
 * the source, as for AllIntervalsCandles), then one keyed tumbling event-time window operator per
 * interval (an incremental AggregateFunction, so a window holds one accumulator, not
 * its trades), their outputs united. Measured beside AllIntervalsCandles.
 */
public final class WindowedCandles {
  private WindowedCandles() {}

  public static DataStream<Candle> build(DataStream<TradeBatch> batches, String[] intervals, long latenessMs) {
    DataStream<Trade> trades = batches
        .flatMap((FlatMapFunction<TradeBatch, Trade>) (batch, out) -> {
          TradeCodec codec = new TradeCodec();
          codec.decode(batch.schema, batch.value, (sell, time, id, price, size, count) -> {
            Trade t = new Trade();
            t.key = batch.key;
            t.exchange = codec.exchange;
            t.symbol = codec.symbol;
            t.market = codec.market;
            t.time = time;
            t.id = id;
            t.price = new java.math.BigDecimal(price);
            t.size = new java.math.BigDecimal(size);
            t.notional = t.price.multiply(t.size);
            t.buy = !sell;
            t.count = count;
            out.collect(t);
          });
        })
        .returns(Trade.class)
        .name("decode");
    DataStream<Candle> all = null;
    for (String name : intervals) {
      DataStream<Candle> one = trades
          .keyBy(t -> t.key)
          .window(new TradeTimeWindows(Intervals.millis(name)))
          .allowedLateness(Duration.ofMillis(latenessMs))
          .aggregate(new Agg(), new Emit(name))
          .name("candles " + name);
      all = all == null ? one : all.union(one);
    }
    return all;
  }

  static final class Agg implements AggregateFunction<Trade, Acc, Acc> {
    @Override
    public Acc createAccumulator() {
      return new Acc();
    }

    @Override
    public Acc add(Trade t, Acc a) {
      if (a.exchange == null) {
        a.exchange = t.exchange;
        a.symbol = t.symbol;
        a.market = t.market;
      }
      a.acc.add(t.time, t.id, t.price, t.size, t.notional, t.buy, t.count);
      return a;
    }

    @Override
    public Acc getResult(Acc a) {
      return a;
    }

    @Override
    public Acc merge(Acc a, Acc b) {
      throw new UnsupportedOperationException("tumbling windows do not merge");
    }
  }

  /** A window's accumulator with the market's identity. */
  public static class Acc {
    public String exchange;
    public String symbol;
    public String market;
    public CandleAccumulator acc = new CandleAccumulator();

    public Acc() {}
  }

  static final class Emit extends ProcessWindowFunction<Acc, Candle, String, TimeWindow> {
    private final String interval;

    Emit(String interval) {
      this.interval = interval;
    }

    @Override
    public void process(String key, Context ctx, Iterable<Acc> in, Collector<Candle> out) {
      Acc a = in.iterator().next();
      // A window's later firings are revisions; a per-window counter keeps their number.
      org.apache.flink.api.common.state.ValueState<Integer> fired = ctx.windowState().getState(
          new org.apache.flink.api.common.state.ValueStateDescriptor<>("fired", Integer.class));
      Integer n = null;
      try {
        n = fired.value();
        fired.update(n == null ? 0 : n + 1);
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
      a.acc.start = ctx.window().getStart();
      a.acc.end = ctx.window().getEnd();
      a.acc.revision = n == null ? 0 : n + 1;
      out.collect(a.acc.toCandle(a.exchange, a.symbol, a.market, interval));
    }

    @Override
    public void clear(Context ctx) throws Exception {
      ctx.windowState().getState(new org.apache.flink.api.common.state.ValueStateDescriptor<>("fired", Integer.class)).clear();
    }
  }
}
