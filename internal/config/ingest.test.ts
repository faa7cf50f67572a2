import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRODUCER_CLIENTS } from '../log/producer-client.js';
import { ConfigError } from '../runtime/errors.js';
import { INGEST_HELP, parseIngestConfig } from './ingest.js';

const env = { KAFKA_BROKERS: '127.0.0.1:9092' };

describe('ingest config', () => {
  it('takes one venue from flags, in the venue spelling, flags over the environment', () => {
    const c = parseIngestConfig(
      ['--venue', 'binance', '--symbols', 'BTC-USDT,ethusdt', '--kafka-brokers', 'k1:1,k2:2', '--rest-url', ''],
      { ...env, TICKMESH_TRADES_TOPIC: 'trades.x' },
    );
    expect(c.venues).toEqual([{ venue: 'binance', symbols: ['BTCUSDT', 'ETHUSDT'], restUrl: '' }]);
    expect(c.kafkaBrokers).toEqual(['k1:1', 'k2:2']);
    expect(c.topics).toEqual({
      trades: 'trades.x',
      rejects: 'tickmesh.trades.rejected.v1',
      gaps: 'tickmesh.gaps.v1',
      klines: 'tickmesh.klines.v1',
    });
    expect(c.klineIntervals).toEqual(['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '1w']);
    expect(c.staleAfterMs).toBe(60_000);
    expect(c.resumeTail).toBe(5_000);
    expect([c.maxMessageBytes, c.maxFragments, c.maxQueueBytes]).toEqual([1 << 20, 1024, 16 << 20]);
  });

  it("subscribes the venues' kline channels unless told --no-klines, to the klines topic it is given", () => {
    const base = ['--venue', 'binance', '--symbols', 'BTCUSDT'];
    const c = parseIngestConfig([...base, '--klines-topic', 'k.x', '--kline-intervals', '1s,1m'], env);
    expect([c.topics.klines, c.klineIntervals]).toEqual(['k.x', ['1s', '1m']]);
    expect(parseIngestConfig(base, { ...env, TICKMESH_KLINES_TOPIC: 'k.env' }).topics.klines).toBe('k.env');
    expect(parseIngestConfig([...base, '--no-klines'], env).klineIntervals).toEqual([]);
    expect(() => parseIngestConfig([...base, '--kline-intervals', '7m'], env)).toThrow(/unknown interval/);
  });

  it('plants a kline discrepancy in one of the simulator markets, and nowhere else', () => {
    const sim = ['--venue', 'sim', '--symbols', 'BTC-USD,ETH-USD'];
    const c = parseIngestConfig([...sim, '--plant-kline-discrepancy', 'eth-usd:field'], env);
    expect(c.venues[0]?.plantKlineDiscrepancy).toEqual({ market: 'ETH-USD', kind: 'field' });
    expect(parseIngestConfig([...sim, '--plant-kline-discrepancy', 'BTC-USD'], env).venues[0]).toMatchObject({
      plantKlineDiscrepancy: { market: 'BTC-USD', kind: 'withheld-trade' },
    });
    expect(() => parseIngestConfig([...sim, '--plant-kline-discrepancy', 'SOL-USD'], env)).toThrow(/not one of/);
    expect(() => parseIngestConfig([...sim, '--plant-kline-discrepancy', 'BTC-USD:x'], env)).toThrow(/MARKET:KIND/);
    const binance = ['--venue', 'binance', '--symbols', 'BTCUSDT', '--plant-kline-discrepancy', 'BTC-USDT'];
    expect(() => parseIngestConfig(binance, env)).toThrow(ConfigError);
  });

  it('takes the venue proxy from HTTPS_PROXY / NO_PROXY (or their lower case, or flags)', () => {
    const args = ['--venue', 'binance', '--symbols', 'BTCUSDT'];
    expect(parseIngestConfig(args, env).proxy).toBeUndefined();
    expect(parseIngestConfig(args, { ...env, HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.svc' }).proxy).toEqual({
      httpsProxy: 'http://proxy:3128',
      noProxy: '.svc',
    });
    expect(parseIngestConfig(args, { ...env, https_proxy: 'proxy:3128', http_proxy: 'http://p:80' }).proxy).toEqual({
      httpsProxy: 'proxy:3128',
      httpProxy: 'http://p:80',
    });
    expect(
      parseIngestConfig([...args, '--https-proxy', 'http://a:1'], { ...env, HTTPS_PROXY: 'http://b:2' }).proxy,
    ).toEqual({ httpsProxy: 'http://a:1' });
    expect(() => parseIngestConfig(args, { ...env, HTTPS_PROXY: 'socks5://p:1080' })).toThrow(/--https-proxy/);
  });

  it('takes the WebSocket limits per connection from flags', () => {
    const base = ['--venue', 'binance', '--symbols', 'BTCUSDT'];
    const c = parseIngestConfig([...base, '--max-message-kb', '256', '--max-fragments', '8', '--queue-mb', '4'], env);
    expect([c.maxMessageBytes, c.maxFragments, c.maxQueueBytes]).toEqual([256 << 10, 8, 4 << 20]);
    expect(() => parseIngestConfig([...base, '--max-fragments', '0'], env)).toThrow(ConfigError);
  });

  it('compresses with zstd unless told gzip or none, and names the choices when told anything else', () => {
    const base = ['--venue', 'binance', '--symbols', 'BTCUSDT'];
    expect(parseIngestConfig(base, env).compression).toBe('zstd');
    for (const c of ['zstd', 'gzip', 'none'] as const) {
      expect(parseIngestConfig([...base, '--compression', c], env).compression).toBe(c);
    }
    expect(() => parseIngestConfig([...base, '--compression', 'lz4'], env)).toThrow(ConfigError);
    expect(() => parseIngestConfig([...base, '--compression', 'lz4'], env)).toThrow('zstd, gzip, none');
  });

  it('produces on the client --kafka-producer or KAFKA_PRODUCER names, and names the choices otherwise', () => {
    const base = ['--venue', 'binance', '--symbols', 'BTCUSDT'];
    expect(parseIngestConfig(base, env).kafkaProducer).toBe(PRODUCER_CLIENTS[0]);
    for (const c of PRODUCER_CLIENTS) {
      expect(parseIngestConfig([...base, '--kafka-producer', c], env).kafkaProducer).toBe(c);
      expect(parseIngestConfig(base, { ...env, KAFKA_PRODUCER: c }).kafkaProducer).toBe(c);
    }
    expect(() => parseIngestConfig([...base, '--kafka-producer', 'librdkafka'], env)).toThrow(
      PRODUCER_CLIENTS.join(', '),
    );
  });

  it('reads many venues from a config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingest-config-'));
    const file = join(dir, 'venues.json');
    writeFileSync(
      file,
      JSON.stringify({
        venues: [
          { venue: 'kraken', symbols: ['XBT/USD'], staleAfterSeconds: 30, klines: false },
          { venue: 'sim', symbols: ['btc-usd'], rate: 5 },
          { venue: 'okx', symbols: ['BTC-USDT-SWAP'], contractValues: { 'BTC-USDT-SWAP': '0.01' } },
        ],
      }),
    );
    const c = parseIngestConfig(['--config', file], env);
    expect(c.venues).toEqual([
      { venue: 'kraken', symbols: ['BTC/USD'], staleAfterMs: 30_000, klines: false },
      { venue: 'sim', symbols: ['BTC-USD'], rate: 5 },
      { venue: 'okx', symbols: ['BTC-USDT-SWAP'], contractValues: { 'BTC-USDT-SWAP': '0.01' } },
    ]);
    writeFileSync(
      file,
      JSON.stringify({ venues: [{ venue: 'okx', symbols: ['BTC-USDT'], contractValues: { 'ETH-USDT-SWAP': '0.1' } }] }),
    );
    expect(() => parseIngestConfig(['--config', file], env)).toThrow(
      "okx: contractValues names 'ETH-USDT-SWAP', which is not one of its symbols",
    );
    writeFileSync(
      file,
      JSON.stringify({ venues: [{ venue: 'bybit-linear', symbols: ['BTCUSDT'], contractValues: { BTCUSDT: '1' } }] }),
    );
    expect(() => parseIngestConfig(['--config', file], env)).toThrow('bybit-linear: contractValues is for okx');
    // What needs no request fails at parse time, before ingest waits for its topics.
    expect(() => parseIngestConfig(['--venue', 'okx', '--symbols', 'BTC-USD-SWAP'], env)).toThrow(
      'okx BTC-USD-SWAP: its contract is worth an amount of USD',
    );
    expect(() => parseIngestConfig(['--venue', 'okx', '--symbols', 'BTC-USDT-SWAP', '--rest-url', ''], env)).toThrow(
      'okx BTC-USDT-SWAP: trades count contracts and no REST URL',
    );
  });

  it.each([
    [['--venue', 'nasdaq', '--symbols', 'AAPL']],
    [['--venue', 'binance', '--symbols', 'NOPE']],
    [['--venue', 'binance']],
    [[]],
    [['--venue', 'binance', '--symbols', 'BTCUSDT', '--ws-url', 'not a url']],
    [['--venue', 'binance', '--symbols', 'BTCUSDT', '--stale-after', '-1']],
  ])('refuses %j', (argv) => {
    expect(() => parseIngestConfig(argv, env)).toThrow(ConfigError);
  });

  it('refuses to start without brokers', () => {
    expect(() => parseIngestConfig(['--venue', 'binance', '--symbols', 'BTCUSDT'], {})).toThrow(/Kafka brokers/);
  });

  it('explains every option in --help', () => {
    const flags = [
      'venue',
      'symbols',
      'stream',
      'ws-url',
      'rest-url',
      'config',
      'binance-api-key',
      'stale-after',
      'ping-interval',
      'max-backfill',
      'sim-rate',
      'sim-seed',
      'kafka-brokers',
      'trades-topic',
      'rejects-topic',
      'gaps-topic',
      'compression',
      'kafka-producer',
      'max-buffer-mb',
      'client-id',
      'metrics-port',
      'log-level',
    ];
    for (const f of flags) expect(INGEST_HELP).toContain(`--${f} `);
  });
});
