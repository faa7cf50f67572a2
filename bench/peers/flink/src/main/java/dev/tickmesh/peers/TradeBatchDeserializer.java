package dev.tickmesh.peers;

import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/** Kafka record to TradeBatch: the key, the `tm-schema` header and the value, not yet decoded. */
public class TradeBatchDeserializer implements KafkaRecordDeserializationSchema<TradeBatch> {
  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<TradeBatch> out) {
    Header h = record.headers().lastHeader("tm-schema");
    String schema = h == null ? "" : new String(h.value(), StandardCharsets.UTF_8);
    int kind;
    if (schema.equals("trade-batch.v1")) kind = TradeCodec.TRADE_BATCH_V1;
    else if (schema.equals("trade.v1")) kind = TradeCodec.TRADE_V1;
    else throw new IllegalArgumentException("unsupported schema " + schema);
    out.collect(new TradeBatch(new String(record.key(), StandardCharsets.UTF_8), kind, record.value()));
  }

  @Override
  public TypeInformation<TradeBatch> getProducedType() {
    return TypeInformation.of(TradeBatch.class);
  }
}
