package dev.tickmesh.peers;

/**
 * One Kafka record of the trades topic as it travels from the source to the keyed operator: the
 * record's key (`exchange:symbol`), its schema and its value bytes, undecoded. A byte array crosses
 * the keyBy shuffle as one copy, where a decoded trade per element would cost a serializer call per
 * field; the keyed operator decodes it (TradeCodec). A Flink POJO, so no Kryo.
 */
public class TradeBatch {
  public String key;
  /** 1: trade.v1, 2: trade-batch.v1. */
  public int schema;
  public byte[] value;
  /** The newest event time of its trades: the element's timestamp. */
  public long eventTime;

  public TradeBatch() {}

  public TradeBatch(String key, int schema, byte[] value) {
    this.key = key;
    this.schema = schema;
    this.value = value;
    this.eventTime = TradeCodec.maxEventTime(schema, value);
  }
}
