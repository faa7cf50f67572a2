import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { KAFKA_SECURITY_FLAG_NAMES, type KafkaSecurity, pickFlags } from '../../internal/config/connection-security.js';
import { parseEndpoints } from '../../internal/config/endpoints.js';
import { compressionFlag } from '../../internal/config/flags.js';
import { isTradeFileFormat, TRADE_FILE_FORMATS } from '../../internal/ingest/files/index.js';
import { IngestMetrics } from '../../internal/ingest/metrics.js';
import { captureSource, type ReplayProgress, replay, tradeFileSource } from '../../internal/ingest/replay.js';
import { TradeSink } from '../../internal/ingest/sink.js';
import { DEFAULT_TOPICS } from '../../internal/ingest/topics.js';
import type { Compression } from '../../internal/log/compression.js';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { createKafkaProducer } from '../../internal/log/kafka-producer.js';
import { createLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { ConfigError } from '../../internal/runtime/errors.js';
import { parseTopics } from '../ingest/config.js';
import type { Command } from './command.js';

const FORMATS = [...TRADE_FILE_FORMATS, 'binance-capture'] as const;

const HELP = `tickmesh replay: feed a trade file into Kafka with the live path's normalization

usage: tickmesh replay --input FILE --format FORMAT [options]

input:
  --input FILE              the file (.gz is read compressed)
  --format FORMAT           ${FORMATS.join(' | ')}
                            tardis             tardis.dev trades CSV (exchange,symbol,timestamp,local_timestamp,id,side,price,amount)
                            binance-trades     Binance public trades CSV (data.binance.vision), spot or USD-M layout
                            binance-aggtrades  Binance public aggTrades CSV
                            jsonl              one normalized Trade JSON object per line
                            binance-capture    raw WebSocket capture: "<url> <-> <t>" then "<t>: <frame>" lines
  --exchange VENUE          venue of Binance files (default binance, binance-futures for the USD-M layout);
                            for tardis and jsonl: only rows of this venue
  --symbol SYMBOL           symbol of Binance files (default: from the file name, BTCUSDT-trades-...);
                            for tardis and jsonl: only rows of this symbol
  --market ID               canonical market id for every trade (default: derived from venue and symbol)
  --speed N|max             N times real time by event time, or max (as fast as Kafka takes it); default max

output (flags override the environment):
  --kafka-brokers LIST      Kafka bootstrap brokers, comma-separated                   (KAFKA_BROKERS)
  --trades-topic NAME       default ${DEFAULT_TOPICS.trades}                          (TICKMESH_TRADES_TOPIC)
  --rejects-topic NAME      default ${DEFAULT_TOPICS.rejects}                (TICKMESH_REJECTS_TOPIC)
  --gaps-topic NAME         default ${DEFAULT_TOPICS.gaps}                            (TICKMESH_GAPS_TOPIC)
  --create-topics N         create the three topics with N partitions if they do not exist
  --compression KIND        zstd (default), gzip (for Kafka readers without zstd) or none
  --client-id ID            Kafka client id; default tickmesh-replay-<host>
  --quiet                   no progress lines on stderr (the final summary still goes to stdout)
  --log-level LEVEL         default warn                                               (LOG_LEVEL)

Progress goes to stderr once a second; the summary line (JSON) to stdout. Exit code 0 when every
trade read was produced or counted as a duplicate, rejected or gap; 1 on a Kafka failure.
`;

interface ReplayConfig {
  readonly input: string;
  readonly format: (typeof FORMATS)[number];
  readonly exchange?: string;
  readonly symbol?: string;
  readonly market?: string;
  readonly speed: number | 'max';
  readonly kafkaBrokers: readonly string[];
  readonly kafkaSecurity: KafkaSecurity | undefined;
  readonly topics: ReturnType<typeof parseTopics>;
  readonly createTopics?: number;
  readonly compression: Compression;
  readonly clientId: string;
  readonly quiet: boolean;
  readonly logLevel: string;
}

function parseReplayConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ReplayConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      allowPositionals: false,
      options: {
        ...Object.fromEntries(
          [
            'input',
            'format',
            'exchange',
            'symbol',
            'market',
            'speed',
            'kafka-brokers',
            ...KAFKA_SECURITY_FLAG_NAMES,
            'trades-topic',
            'rejects-topic',
            'gaps-topic',
            'create-topics',
            'compression',
            'client-id',
            'log-level',
          ].map((n) => [n, { type: 'string' as const }]),
        ),
        quiet: { type: 'boolean' as const },
      },
    }).values;
  } catch (cause) {
    throw new ConfigError(`replay: ${(cause as Error).message}`, { cause });
  }
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const input = str('input');
  if (!input) throw new ConfigError('replay: --input is required');
  const format = str('format');
  if (!format || !(FORMATS as readonly string[]).includes(format)) {
    throw new ConfigError(`replay: --format must be one of ${FORMATS.join(', ')}`);
  }
  const speedText = str('speed') ?? 'max';
  const speed = speedText === 'max' ? 'max' : Number(speedText);
  if (speed !== 'max' && !(speed > 0)) throw new ConfigError('replay: --speed must be a positive number or max');
  const endpoints = parseEndpoints(
    { 'kafka-brokers': str('kafka-brokers'), ...pickFlags(values, KAFKA_SECURITY_FLAG_NAMES) },
    env,
  );
  if (endpoints.kafkaBrokers.length === 0)
    throw new ConfigError('replay: no Kafka brokers (--kafka-brokers or KAFKA_BROKERS)');
  const createTopics = str('create-topics') === undefined ? undefined : Number(str('create-topics'));
  if (createTopics !== undefined && !(Number.isInteger(createTopics) && createTopics >= 1)) {
    throw new ConfigError('replay: --create-topics must be a partition count >= 1');
  }
  const compression = compressionFlag(str('compression'));
  const opt = (k: string, v: string | undefined) => (v === undefined ? {} : { [k]: v });
  return Object.freeze({
    input,
    format: format as ReplayConfig['format'],
    ...opt('exchange', str('exchange')),
    ...opt('symbol', str('symbol')),
    ...opt('market', str('market')),
    speed,
    kafkaBrokers: endpoints.kafkaBrokers,
    kafkaSecurity: endpoints.kafkaSecurity,
    topics: parseTopics(values as Record<string, string | undefined>, env),
    ...(createTopics !== undefined ? { createTopics } : {}),
    compression,
    clientId: str('client-id') ?? `tickmesh-replay-${hostname()}`,
    quiet: values.quiet === true,
    logLevel: str('log-level') ?? (env.LOG_LEVEL || 'warn'),
  });
}

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
  const producer = await createKafkaProducer({
    brokers: config.kafkaBrokers,
    security: config.kafkaSecurity,
    clientId: config.clientId,
    logger,
    registry,
    compression: config.compression,
  });
  const sink = new TradeSink({ producer, topics: config.topics });
  const source =
    config.format === 'binance-capture'
      ? captureSource(config.input, signal)
      : isTradeFileFormat(config.format)
        ? tradeFileSource({
            path: config.input,
            format: config.format,
            signal,
            ...(config.exchange !== undefined ? { exchange: config.exchange } : {}),
            ...(config.symbol !== undefined ? { symbol: config.symbol } : {}),
            ...(config.market !== undefined ? { market: config.market } : {}),
          })
        : undefined;
  if (!source) throw new ConfigError(`replay: unknown format ${config.format}`);
  try {
    const final = await replay(
      source,
      { sink, metrics: new IngestMetrics(registry), logger },
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
  help: HELP,
  async run(argv, signal) {
    let config: ReplayConfig;
    try {
      config = parseReplayConfig(argv, process.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`tickmesh ${err.message}\n`);
      return 2;
    }
    return runReplay(config, signal);
  },
};
