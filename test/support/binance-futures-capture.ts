import { readFileSync } from 'node:fs';
import { createBinanceAdapter } from '../../internal/ingest/venues/binance.js';
import type { Trade } from '../../internal/market/trade.js';
import { klinePushParser } from '../../internal/verify/kline-push.js';
import type { KlineRecord } from '../../internal/verify/kline-record.js';
import { sharedData } from '../../test/harness/shared-data.js';

/**
 * The Binance USD-M capture of ../shared/data/venue-ws-captures (31 s of `@aggTrade` and
 * `@kline_1m` across 22:26:00 UTC on 2021-07-22), read as ingest would: the aggTrades as
 * trades, the kline pushes as `kline.v1` records. The capture ends 11 s into the minute 22:26,
 * so no push of that minute is final; the minute is complete up to its last push's trade id
 * (the pushes carry the ids of their first and last trade, `f` and `L`): `minute()` gives the
 * trades of the minute up to it and that push marked final, as Binance's push at the close
 * would read had no later trade come.
 */
const FILE = sharedData('venue-ws-captures', 'binance_futures_aggTrade_kline.jsonl');
export const EXCHANGE = 'binance-futures';
/** 2021-07-22 22:26:00 UTC: the minute that began inside the capture. */
export const MINUTE = 1_626_992_760_000;

interface Captured {
  readonly trades: Array<{ trade: Trade; firstId: number; lastId: number }>;
  readonly pushes: Array<{ record: KlineRecord; firstId: number; lastId: number }>;
}

function read(): Captured {
  const adapter = createBinanceAdapter({
    market: 'usdm',
    stream: 'aggTrade',
    symbols: ['SUSHIUSDT', 'AKROUSDT', 'KEEPUSDT', 'CTKUSDT'],
    restUrl: '',
  });
  const parse = klinePushParser(EXCHANGE);
  const trades: Captured['trades'] = [];
  const pushes: Captured['pushes'] = [];
  for (const line of readFileSync(FILE, 'utf8').split('\n')) {
    if (line === '') continue;
    const entry = JSON.parse(line) as { t: string; ts?: number; data?: string };
    if (entry.t !== 'recv' || entry.data === undefined) continue;
    const receivedAt = Math.round((entry.ts as number) * 1000);
    const frame = JSON.parse(entry.data) as { stream: string; data: Record<string, unknown> };
    if (frame.stream.endsWith('@aggTrade')) {
      adapter.parse(entry.data, receivedAt, {
        trade: (trade) => trades.push({ trade, firstId: frame.data.f as number, lastId: frame.data.l as number }),
        reject: (reason) => {
          throw new Error(`aggTrade rejected: ${reason}`);
        },
      });
    } else if (frame.stream.includes('@kline_')) {
      const r = parse?.(entry.data);
      if (r === undefined || 'reject' in r) throw new Error('kline push not read');
      const k = frame.data.k as { f: number; L: number };
      for (const p of r.pushes) {
        pushes.push({ record: { v: 1, exchange: EXCHANGE, receivedAt, ...p }, firstId: k.f, lastId: k.L });
      }
    }
  }
  return { trades, pushes };
}

/** Every aggTrade of the capture as a trade and every kline push as a record, in receive order. */
export function binanceFuturesCapture(): { trades: Trade[]; klines: KlineRecord[] } {
  const c = read();
  return { trades: c.trades.map((t) => t.trade), klines: c.pushes.map((p) => p.record) };
}

/**
 * The minute 22:26 of each symbol whose captured aggTrades cover its last push's trade ids
 * without a hole (AKROUSDT misses one): its trades up to that push, and the push, final.
 */
export function completeMinutes(): Array<{ symbol: string; trades: Trade[]; final: KlineRecord }> {
  const c = read();
  const out: Array<{ symbol: string; trades: Trade[]; final: KlineRecord }> = [];
  const last = new Map<string, Captured['pushes'][number]>();
  for (const p of c.pushes) if (p.record.kline.openTime === MINUTE) last.set(p.record.symbol, p);
  for (const [symbol, p] of last) {
    const trades = c.trades
      .filter((t) => t.trade.symbol === symbol && t.trade.eventTime >= MINUTE && t.lastId <= p.lastId)
      .map((t) => t.trade);
    const ids = c.trades
      .filter((t) => t.trade.symbol === symbol && t.firstId >= p.firstId && t.lastId <= p.lastId)
      .sort((a, b) => a.firstId - b.firstId);
    const covered = ids.every((t, i) => t.firstId === (i === 0 ? p.firstId : (ids[i - 1]?.lastId ?? 0) + 1));
    if (trades.length === 0 || !covered || ids.at(-1)?.lastId !== p.lastId) continue;
    out.push({ symbol, trades, final: { ...p.record, final: true } });
  }
  return out;
}
