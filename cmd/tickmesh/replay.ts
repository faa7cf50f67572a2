import { parseReplayConfig, REPLAY_HELP, type ReplayConfig } from '../../internal/config/replay.js';
import { isTradeFileFormat } from '../../internal/ingest/files/index.js';
import { createLogWriter } from '../../internal/ingest/log-writer.js';
import { IngestMetrics } from '../../internal/ingest/metrics.js';
import { captureSource, type ReplayProgress, replay, tradeFileSource } from '../../internal/ingest/replay.js';
import { createLogProducer } from '../../internal/log/create-producer.js';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { createLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { ConfigError } from '../../internal/runtime/errors.js';
import type { Command } from './command.js';

function progressLine(p: ReplayProgress): string {
  const at = p.eventTime === undefined ? '-' : new Date(p.eventTime).toISOString();
  return `replay: ${p.produced} produced, ${p.duplicates} duplicates, ${p.rejected} rejected, ${p.gaps} gaps, read ${p.read}; event time ${at}; ${Math.round(p.ratePerSecond)} trades/s\n`;
}

async function runReplay(config: ReplayConfig, signal: AbortSignal): Promise<number> {
  const logger = createLogger({ level: config.logLevel, destination: process.stderr }).child({ role: 'replay' });
  const registry = createRegistry({ role: 'replay' }, false);
  if (config.createTopics !== undefined) {
    const admin = await createKafkaAdmin({
      brokers: config.kafkaBrokers,
      security: config.kafkaSecurity,
      clientId: config.clientId,
      logger,
    });
    try {
      for (const topic of [config.topics.trades, config.topics.rejects, config.topics.gaps]) {
        await admin.ensureTopic(topic, config.createTopics);
      }
    } finally {
      await admin.close();
    }
  }
  const producer = await createLogProducer(config.kafkaProducer, {
    brokers: config.kafkaBrokers,
    security: config.kafkaSecurity,
    clientId: config.clientId,
    logger,
    registry,
    compression: config.compression,
  });
  const writer = createLogWriter({ producer, topics: config.topics });
  const source =
    config.format === 'binance-capture'
      ? captureSource(config.input, signal)
      : isTradeFileFormat(config.format)
        ? tradeFileSource({
            path: config.input,
            format: config.format,
            signal,
            exchange: config.exchange,
            symbol: config.symbol,
            market: config.market,
          })
        : undefined;
  if (!source) throw new ConfigError(`replay: unknown format ${config.format}`);
  try {
    const final = await replay(
      source,
      { writer, metrics: new IngestMetrics(registry), logger },
      {
        speed: config.speed,
        signal,
        ...(config.quiet ? {} : { onProgress: (p: ReplayProgress) => process.stderr.write(progressLine(p)) }),
      },
    );
    process.stdout.write(
      `${JSON.stringify({ ...final, elapsedMs: Math.round(final.elapsedMs), ratePerSecond: Math.round(final.ratePerSecond) })}\n`,
    );
    return 0;
  } catch (err) {
    logger.error({ err }, 'replay failed');
    process.stderr.write(`tickmesh replay: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await producer.close();
  }
}

export const replayCommand: Command = {
  name: 'replay',
  help: REPLAY_HELP,
  run: async (argv, signal) => runReplay(parseReplayConfig(argv, process.env), signal),
};
