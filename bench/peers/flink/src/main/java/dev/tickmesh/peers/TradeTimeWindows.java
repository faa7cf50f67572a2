package dev.tickmesh.peers;

import java.util.Collection;
import java.util.Collections;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.triggers.EventTimeTrigger;
import org.apache.flink.streaming.api.windowing.triggers.Trigger;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;

/**
 * Tumbling event-time windows by each trade's own time. The element's timestamp is its record's
 * (the source assigns timestamps and per-partition watermarks to records, as Flink's Kafka source
 * does best); a trade inside a record may be older, and belongs to the window of its own time.
 */
public class TradeTimeWindows extends WindowAssigner<Trade, TimeWindow> {
  private final long size;

  public TradeTimeWindows(long size) {
    this.size = size;
  }

  @Override
  public Collection<TimeWindow> assignWindows(Trade t, long timestamp, WindowAssignerContext context) {
    long start = t.time - Math.floorMod(t.time, size);
    return Collections.singletonList(new TimeWindow(start, start + size));
  }

  @Override
  @SuppressWarnings("deprecation")
  public Trigger<Trade, TimeWindow> getDefaultTrigger(org.apache.flink.streaming.api.environment.StreamExecutionEnvironment env) {
    return (Trigger) EventTimeTrigger.create();
  }

  @Override
  public TypeSerializer<TimeWindow> getWindowSerializer(ExecutionConfig executionConfig) {
    return new TimeWindow.Serializer();
  }

  @Override
  public boolean isEventTime() {
    return true;
  }
}
