import { Registry } from 'prom-client';
import { IngestMetrics } from '../internal/ingest/metrics.js';
import { TradeProcessor } from '../internal/ingest/processor.js';
import { TradeSink } from '../internal/ingest/sink.js';
import { binanceTradeFrame } from '../internal/ingest/testing/local-binance.js';
import { loadRealTrades } from '../internal/ingest/testing/real-trades.js';
import type { FrameSink } from '../internal/ingest/venue.js';
import { createBinanceAdapter } from '../internal/ingest/venues/binance.js';
import type { LogProducer } from '../internal/log/log.js';
import type { Trade } from '../internal/market/trade.js';
import { silentLogger } from '../internal/observe/logger.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', 'ADAUSDT', 'DOGEUSDT', 'LTCUSDT'];
const real = await loadRealTrades();
const n = 600_000;
const input: string[] = new Array(n);
const base = Number(real[0]?.tradeId);
for (let i = 0; i < n; i++) {
  const symbol = SYMBOLS[i % SYMBOLS.length] as string;
  const k = Math.floor(i / SYMBOLS.length);
  const t = real[k % real.length] as Trade;
  input[i] = (process.env.FLAT ? (s: string) => Buffer.from(s).toString() : (s: string) => s)(
    binanceTradeFrame({ ...t, symbol, tradeId: String(base + k), eventTime: t.eventTime + k }),
  );
}
const adapter = createBinanceAdapter({ market: 'usdm', symbols: SYMBOLS, restUrl: '' });
const nullLog: LogProducer = { send: () => Promise.resolve(), close: () => Promise.resolve() };
const sink = new TradeSink({ producer: nullLog, topics: { trades: 't', rejects: 'r', gaps: 'g' } });
const processor = new TradeProcessor({
  venue: adapter.venue,
  sequentialIds: true,
  sink,
  metrics: new IngestMetrics(new Registry()),
  logger: silentLogger(),
});
const pending: Trade[] = [];
const out: FrameSink = { trade: (t) => pending.push(t), reject: () => {} };
const mode = process.argv[2] ?? 'process';
const t0 = performance.now();
const c0 = process.cpuUsage();
let parsed = 0;
for (let i = 0; i < input.length; i++) {
  const frame = input[i] as string;
  adapter.parse(frame, 1582329602500, out);
  if (mode === 'process') {
    for (const t of pending) {
      const w = processor.trade(t, frame);
      if (w) await w;
    }
    if (sink.saturated) await sink.ready();
    if ((i & 1023) === 0) await new Promise<void>((r) => setImmediate(r));
  }
  parsed += pending.length;
  pending.length = 0;
}
await sink.flush();
const c = process.cpuUsage(c0);
console.log(
  mode,
  parsed,
  'wall ms',
  Math.round(performance.now() - t0),
  'cpu ms',
  Math.round((c.user + c.system) / 1000),
  'per trade µs',
  ((c.user + c.system) / parsed).toFixed(2),
);
