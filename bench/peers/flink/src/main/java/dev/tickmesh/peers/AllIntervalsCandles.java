package dev.tickmesh.peers;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Every interval's candles of one market in one keyed operator: each trade is decoded and parsed
 * once and added to the window of each interval, where a window operator per interval would
 * shuffle, deserialize and parse it once per interval. The semantics are those of Flink's
 * tumbling event-time windows with allowed lateness: a window fires when the watermark passes its
 * last millisecond, fires again on each later trade (a revision) until the watermark passes its
 * end plus the lateness, and a trade for a window past that is dropped and counted.
 */
public class AllIntervalsCandles extends KeyedProcessFunction<String, TradeBatch, Candle> {
  private final String[] names;
  private final long[] lengths;
  private final long lateness;
  private transient ValueState<MarketWindows> state;
  private transient TradeCodec codec;
  private transient LongCounter trades;
  private transient LongCounter late;
  private transient LongCounter emitted;

  public AllIntervalsCandles(String[] intervals, long latenessMs) {
    this.names = intervals.clone();
    this.lengths = new long[intervals.length];
    for (int i = 0; i < intervals.length; i++) lengths[i] = Intervals.millis(intervals[i]);
    this.lateness = latenessMs;
  }

  @Override
  public void open(OpenContext context) {
    state = getRuntimeContext().getState(new ValueStateDescriptor<>("windows", TypeInformation.of(MarketWindows.class)));
    codec = new TradeCodec();
    trades = getRuntimeContext().getLongCounter("trades");
    late = getRuntimeContext().getLongCounter("late-dropped");
    emitted = getRuntimeContext().getLongCounter("candles-emitted");
  }

  @Override
  public void processElement(TradeBatch batch, Context ctx, Collector<Candle> out) throws Exception {
    MarketWindows mw = state.value();
    boolean created = mw == null;
    if (created) mw = new MarketWindows(names.length);
    final MarketWindows w = mw;
    final long watermark = ctx.timerService().currentWatermark();
    codec.decode(batch.schema, batch.value, (sell, time, id, price, size, count) -> {
      trades.add(1);
      BigDecimal p = new BigDecimal(price);
      BigDecimal s = new BigDecimal(size);
      BigDecimal q = p.multiply(s);
      for (int i = 0; i < lengths.length; i++) {
        long len = lengths[i];
        long start = time - Math.floorMod(time, len);
        long last = start + len - 1;
        if (last + lateness <= watermark) {
          late.add(1);
          continue;
        }
        ArrayList<CandleAccumulator> open = w.windows.get(i);
        CandleAccumulator acc = null;
        for (int j = 0; j < open.size(); j++) {
          if (open.get(j).start == start) {
            acc = open.get(j);
            break;
          }
        }
        if (acc == null) {
          acc = new CandleAccumulator(start, start + len);
          open.add(acc);
          ctx.timerService().registerEventTimeTimer(last);
          ctx.timerService().registerEventTimeTimer(last + lateness);
        }
        acc.add(time, id, p, s, q, !sell, count);
        if (acc.fired) {
          acc.revision++;
          emit(acc, w, i, out);
        }
      }
    });
    if (created) {
      w.exchange = codec.exchange;
      w.symbol = codec.symbol;
      w.market = codec.market;
      state.update(w);
    }
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<Candle> out) throws Exception {
    MarketWindows w = state.value();
    if (w == null) return;
    boolean any = false;
    for (int i = 0; i < lengths.length; i++) {
      Iterator<CandleAccumulator> it = w.windows.get(i).iterator();
      while (it.hasNext()) {
        CandleAccumulator acc = it.next();
        long last = acc.end - 1;
        if (!acc.fired && last <= timestamp) {
          acc.fired = true;
          acc.revision = 0;
          emit(acc, w, i, out);
        }
        if (last + lateness <= timestamp) it.remove();
        else any = true;
      }
    }
    if (!any) state.clear();
  }

  private void emit(CandleAccumulator acc, MarketWindows w, int interval, Collector<Candle> out) {
    emitted.add(1);
    out.collect(acc.toCandle(w.exchange, w.symbol, w.market, names[interval]));
  }
}
