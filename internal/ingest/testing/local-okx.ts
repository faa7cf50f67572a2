import type { WebSocket } from 'ws';
import { decimalToBig, formatScaledBig } from '../../actor/decimal.js';
import type { Trade } from '../../market/trade.js';
import { type LocalServer, playOnce, sendInTurns, startLocalServer } from './local-server.js';

/**
 * A local stand-in for OKX that speaks its real v5 protocol, for tests: WebSocket on
 * `/ws/v5/public` (`subscribe` to the `trades` channel acknowledged per argument with an `event`
 * message, the text `ping` answered with `pong`), trades pushed as OKX aggregates them (one data
 * element per taker order and price: consecutive trades of the tape with one time, side and
 * price, `tradeId` the last of them and `count` how many, `sz` their sum), and REST
 * `GET /api/v5/market/history-trades` (`type=1`: trades with ids below `after`, newest first,
 * at most 100, one row a trade) for backfill, and `GET /api/v5/public/instruments` for the
 * contract value of a swap or future (`instruments`).
 *
 * The tape is cut into messages once (`okxMessages`), so every connection sends the same
 * messages; a connection's script names tape index ranges and the stand-in sends the messages
 * whose last trade falls in them.
 */
export interface OkxConnectionScript {
  /** `[from, to)` tape index ranges; every message whose last trade is in one is sent, in order. */
  readonly send: ReadonlyArray<readonly [number, number]>;
  /** After the last message: drop the connection (`drop`), keep it open and silent (`silent`). */
  readonly after: 'drop' | 'silent';
}

export interface LocalOkxOptions {
  /** The tape in trade order; `symbol` is the instId (`BTC-USDT`), ids consecutive per instId. */
  readonly trades: readonly Trade[];
  readonly script: (connection: number) => OkxConnectionScript | undefined;
  /** Trades one message aggregates at most. Default 20. */
  readonly maxCount?: number;
  /**
   * What `GET /api/v5/public/instruments` lists of each swap or future (OKX's fields); the tape's
   * `size` of such an instrument is its `sz`, in contracts. An instId not here is not listed.
   */
  readonly instruments?: Readonly<Record<string, OkxInstrument>>;
}

/** The fields of an OKX instruments row that say what one contract is worth. */
export interface OkxInstrument {
  readonly ctVal: string;
  readonly ctValCcy: string;
  readonly ctType: 'linear' | 'inverse';
}

export type LocalOkx = LocalServer;

/** One aggregated trades message element: tape indexes `first..last` inclusive. */
export interface OkxMessage {
  readonly first: number;
  readonly last: number;
}

/** The tape cut as OKX's trades channel aggregates it: one time, side and price per element. */
export function okxMessages(trades: readonly Trade[], maxCount = 20): OkxMessage[] {
  const out: OkxMessage[] = [];
  let first = 0;
  for (let i = 1; i <= trades.length; i++) {
    const a = trades[first] as Trade;
    const b = trades[i];
    const same =
      b !== undefined &&
      i - first < maxCount &&
      b.symbol === a.symbol &&
      b.eventTime === a.eventTime &&
      b.side === a.side &&
      b.price === a.price;
    if (!same) {
      out.push({ first, last: i - 1 });
      first = i;
    }
  }
  return out;
}

const SCALE = 12;

function sumSizes(trades: readonly Trade[]): string {
  let sum = 0n;
  for (const t of trades) sum += decimalToBig(t.size, SCALE) ?? 0n;
  return formatScaledBig(sum, SCALE);
}

function okxRow(t: Trade): string {
  return `{"instId":"${t.symbol}","side":"${t.side}","sz":"${t.size}","px":"${t.price}","source":"0","tradeId":"${t.tradeId}","ts":"${t.eventTime}"}`;
}

export async function startLocalOkx(options: LocalOkxOptions): Promise<LocalOkx> {
  const messages = okxMessages(options.trades, options.maxCount);
  const error = '{"event":"error","code":"60012","msg":"Invalid request","connId":"local"}';

  function rest(url: URL): { status: number; body: string } {
    if (url.pathname === '/api/v5/public/instruments') {
      const instId = url.searchParams.get('instId') ?? '';
      const listed = options.instruments?.[instId];
      const instType = url.searchParams.get('instType');
      const data =
        listed && instType === (instId.endsWith('-SWAP') ? 'SWAP' : 'FUTURES') ? [{ instId, instType, ...listed }] : [];
      return {
        status: 200,
        body: JSON.stringify(
          data.length > 0
            ? { code: '0', msg: '', data }
            : { code: '51001', msg: "Instrument ID doesn't exist", data: [] },
        ),
      };
    }
    if (url.pathname !== '/api/v5/market/history-trades')
      return { status: 404, body: '{"code":"404","msg":"Not Found"}' };
    if (url.searchParams.get('type') !== '1') {
      return { status: 200, body: '{"code":"51000","msg":"Parameter type error","data":[]}' };
    }
    const instId = url.searchParams.get('instId') ?? '';
    const after = BigInt(url.searchParams.get('after') ?? '0');
    const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 100));
    const rows: string[] = [];
    for (let i = options.trades.length - 1; i >= 0 && rows.length < limit; i--) {
      const t = options.trades[i] as Trade;
      if (t.symbol === instId && BigInt(t.tradeId) < after) rows.push(okxRow(t));
    }
    return { status: 200, body: `{"code":"0","msg":"","data":[${rows.join(',')}]}` };
  }

  function connection(ws: WebSocket, n: number): void {
    const subscribed = new Set<string>();
    const start = playOnce(() => play(ws, n, subscribed));
    ws.on('message', (data) => {
      const text = data.toString();
      if (text === 'ping') {
        ws.send('pong');
        return;
      }
      let req: { op?: string; args?: Array<{ channel?: string; instId?: string }> };
      try {
        req = JSON.parse(text);
      } catch {
        ws.send(error);
        return;
      }
      if (req.op !== 'subscribe' || !Array.isArray(req.args)) {
        ws.send(error);
        return;
      }
      for (const arg of req.args) {
        if (arg.channel !== 'trades' || typeof arg.instId !== 'string') continue;
        subscribed.add(arg.instId);
        ws.send(
          JSON.stringify({ event: 'subscribe', arg: { channel: 'trades', instId: arg.instId }, connId: 'local' }),
        );
      }
      start();
    });
  }

  function frame(m: OkxMessage): string {
    const all = options.trades.slice(m.first, m.last + 1);
    const t = all[all.length - 1] as Trade;
    return `{"arg":{"channel":"trades","instId":"${t.symbol}"},"data":[{"instId":"${t.symbol}","tradeId":"${t.tradeId}","px":"${t.price}","sz":"${sumSizes(all)}","side":"${t.side}","ts":"${t.eventTime}","count":"${all.length}","source":"0","seqId":${m.last}}]}`;
  }

  function play(ws: WebSocket, n: number, subscribed: Set<string>): void {
    const script = options.script(n);
    if (!script) return;
    const sent = messages.filter(
      (m) =>
        subscribed.has((options.trades[m.last] as Trade).symbol) &&
        script.send.some(([from, to]) => m.last >= from && m.last < to),
    );
    sendInTurns(ws, sent.map(frame), { after: script.after });
  }

  return startLocalServer({ wsPath: '/ws/v5/public', rest, connection });
}
