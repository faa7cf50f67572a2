package dev.tickmesh.peers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * tickmesh's worker candles as a Flink job, for `npm run bench -- peers`: the trades topic read
 * from its start to its end offsets at launch (a bounded KafkaSource), 1m/5m/15m/1h candles with
 * event-time windows, written to PostgreSQL by idempotent upserts, in a local MiniCluster.
 *
 * Arguments (all `--name value`): brokers, topic, jdbc (a JDBC URL), table (schema.name; run i
 * writes table_i), intervals (1m,5m,15m,1h), parallelism (1), shape (keyed: one operator for all
 * intervals; windows: a window operator per interval), out-of-order-ms (2000), lateness-ms
 * (60000), checkpoint-ms (1000; 0 disables), runs (1: the job run this many times in this JVM),
 * run-topics (the topic of each run, comma-separated; default the topic).
 * Each run prints one JSON line: its wall and CPU time (this process's utime + stime from
 * /proc/self/stat, every JVM thread included) and the job's counters.
 */
public final class CandlesJob {
  private CandlesJob() {}

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < argv.length; i += 2) a.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
    String brokers = required(a, "brokers");
    String topic = required(a, "topic");
    String jdbc = required(a, "jdbc");
    String table = required(a, "table");
    String[] intervals = a.getOrDefault("intervals", "1m,5m,15m,1h").split(",");
    int parallelism = Integer.parseInt(a.getOrDefault("parallelism", "1"));
    String shape = a.getOrDefault("shape", "keyed");
    long outOfOrder = Long.parseLong(a.getOrDefault("out-of-order-ms", "2000"));
    long lateness = Long.parseLong(a.getOrDefault("lateness-ms", "60000"));
    long checkpointMs = Long.parseLong(a.getOrDefault("checkpoint-ms", "1000"));
    int runs = Integer.parseInt(a.getOrDefault("runs", "1"));
    // Run i reads runTopics[i - 1] (default: the topic every run), e.g. the topic, an empty
    // topic and the topic again: the job's fixed cost in a warm JVM, between two warm runs.
    String[] runTopics = a.getOrDefault("run-topics", "").isEmpty() ? new String[0] : a.get("run-topics").split(",");
    System.out.println("{\"event\":\"main\",\"cpuMs\":" + cpuMs() + "}");

    for (int run = 1; run <= runs; run++) {
      String runTable = table + "_" + run;
      try (Connection db = DriverManager.getConnection(jdbc); Statement st = db.createStatement()) {
        st.execute(PostgresCandleSink.createTable(runTable));
      }
      long cpu0 = cpuMs();
      long t0 = System.nanoTime();

      Configuration conf = new Configuration();
      conf.set(StateBackendOptions.STATE_BACKEND, "hashmap");
      conf.set(TaskManagerOptions.NUM_TASK_SLOTS, parallelism);
      // A failure ends the run with its cause instead of restarting it unseen.
      conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
      StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
      env.getConfig().enableObjectReuse();
      env.getConfig().setAutoWatermarkInterval(200);
      if (checkpointMs > 0) env.enableCheckpointing(checkpointMs, CheckpointingMode.EXACTLY_ONCE);

      KafkaSource<TradeBatch> source = KafkaSource.<TradeBatch>builder()
          .setBootstrapServers(brokers)
          .setTopics(run <= runTopics.length ? runTopics[run - 1] : topic)
          .setGroupId("tickmesh-peers-flink-" + ProcessHandle.current().pid() + "-" + run)
          .setStartingOffsets(OffsetsInitializer.earliest())
          .setBounded(OffsetsInitializer.latest())
          .setDeserializer(new TradeBatchDeserializer())
          .setProperty("commit.offsets.on.checkpoint", "false")
          .build();
      // Watermarks per Kafka partition in the source (the connector combines them), from each
      // record's newest trade: a partition that lags does not make another's trades late.
      WatermarkStrategy<TradeBatch> watermarks = WatermarkStrategy
          .<TradeBatch>forBoundedOutOfOrderness(Duration.ofMillis(outOfOrder))
          .withTimestampAssigner((b, ts) -> b.eventTime);
      DataStream<TradeBatch> batches = env.fromSource(source, watermarks, "trades");
      DataStream<Candle> candles;
      if (shape.equals("keyed")) {
        candles = batches.keyBy(b -> b.key).process(new AllIntervalsCandles(intervals, lateness)).name("candles");
      } else if (shape.equals("windows")) {
        candles = WindowedCandles.build(batches, intervals, lateness);
      } else {
        throw new IllegalArgumentException("shape must be keyed or windows");
      }
      candles.sinkTo(new PostgresCandleSink(jdbc, runTable, 2_000)).name("postgres");
      JobExecutionResult result = env.execute("tickmesh-peers-candles-" + run);

      long wallMs = (System.nanoTime() - t0) / 1_000_000;
      long cpuMs = cpuMs() - cpu0;
      System.out.println("{\"event\":\"run\",\"run\":" + run + ",\"wallMs\":" + wallMs
          + ",\"cpuMs\":" + cpuMs + ",\"trades\":" + counter(result, "trades") + ",\"late\":"
          + counter(result, "late-dropped") + ",\"emitted\":" + counter(result, "candles-emitted") + "}");
    }
    System.out.println("{\"event\":\"end\",\"cpuMs\":" + cpuMs() + "}");
    System.out.flush();
    // Threads a MiniCluster leaves behind must not hold the process.
    System.exit(0);
  }

  private static long counter(JobExecutionResult r, String name) {
    Object v = r.getAllAccumulatorResults().get(name);
    return v == null ? -1 : ((Number) v).longValue();
  }

  private static String required(Map<String, String> a, String name) {
    String v = a.get(name);
    if (v == null) throw new IllegalArgumentException("--" + name + " is required");
    return v;
  }

  /** utime + stime of this process, every thread, in ms (clock ticks of 10 ms). */
  static long cpuMs() throws Exception {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
  }
}
