import type { WebSocket } from 'ws';
import type { Trade } from '../../market/trade.js';
import { type LocalServer, playOnce, sendInTurns, startLocalServer } from './local-server.js';

/**
 * A local stand-in for Kraken that speaks its real protocol, for tests: WebSocket v2 on `/v2`
 * (`subscribe` to the `trade` channel answered per symbol, `ping` answered with `pong`, trades as
 * `{"channel":"trade","type":"snapshot"|"update","data":[...]}` with prices and quantities as JSON
 * numbers and RFC 3339 timestamps in microseconds), and REST `GET /0/public/Trades` for backfill
 * (rows `[price, volume, seconds, "b"|"s", "l", "", tradeId]` after `since`, oldest first, keyed
 * by Kraken's internal pair name, with the `last` cursor). Each trade of the tape gets a distinct
 * nanosecond time (trades of one millisecond are 100 ns apart), as Kraken's are, so paging by
 * `last` loses nothing. What each connection sends is scripted, as with the local Binance.
 */
export interface KrakenConnectionScript {
  /** Indexes into `trades` sent first as the subscription's snapshot (`type: "snapshot"`). */
  readonly snapshot?: readonly number[];
  /** Indexes into `trades` sent as updates, in order, `perFrame` trades a frame. */
  readonly send: readonly number[];
  /** After the last frame: drop the connection (`drop`), keep it open and silent (`silent`). */
  readonly after: 'drop' | 'silent';
  /** Trades in one update frame (Kraken groups trades of one match). Default 3. */
  readonly perFrame?: number;
}

export interface LocalKrakenOptions {
  /** The tape in trade order; `symbol` is the v2 pair (`BTC/USD`), ids consecutive per pair. */
  readonly trades: readonly Trade[];
  readonly script: (connection: number) => KrakenConnectionScript | undefined;
  /** Rows a REST answer holds at most, whatever `count` asks (Kraken's is 1,000). Default 1,000. */
  readonly restPage?: number;
  /** The pair names REST answers with, by v2 symbol (default: `X` + base + `Z` + quote, XBT for BTC). */
  readonly restPairName?: (symbol: string) => string;
}

/** Its `wsUrl` is the v2 endpoint, `ws://127.0.0.1:<port>/v2`. */
export type LocalKraken = LocalServer;

function krakenPairName(symbol: string): string {
  const [base = '', quote = ''] = symbol.split('/');
  return `X${base === 'BTC' ? 'XBT' : base}Z${quote}`;
}

/** A Trade as Kraken prints it inside a v2 trade message's `data`. */
export function krakenTradeJson(t: Trade): string {
  const micros = new Date(t.eventTime).toISOString().replace('Z', '000Z');
  return `{"symbol":"${t.symbol}","side":"${t.side}","price":${t.price},"qty":${t.size},"ord_type":"limit","trade_id":${t.tradeId},"timestamp":"${micros}"}`;
}

export async function startLocalKraken(options: LocalKrakenOptions): Promise<LocalKraken> {
  const pairName = options.restPairName ?? krakenPairName;
  // Distinct nanosecond times: the k-th trade of a millisecond is k * 100 ns into it.
  const ns: bigint[] = [];
  let prevMs = Number.NaN;
  let k = 0;
  for (const t of options.trades) {
    k = t.eventTime === prevMs ? k + 1 : 0;
    prevMs = t.eventTime;
    ns.push(BigInt(t.eventTime) * 1_000_000n + BigInt(k * 100));
  }

  function rest(url: URL): { status: number; body: string } {
    if (url.pathname !== '/0/public/Trades') return { status: 404, body: '{"error":["EGeneral:Unknown method"]}' };
    const pair = url.searchParams.get('pair') ?? '';
    const symbol = [...new Set(options.trades.map((t) => t.symbol))].find((s) => s.replace('/', '') === pair);
    if (symbol === undefined) return { status: 200, body: '{"error":["EQuery:Unknown asset pair"]}' };
    const since = BigInt(url.searchParams.get('since') ?? '0');
    const count = Math.min(options.restPage ?? 1000, Number(url.searchParams.get('count') ?? 1000));
    const rows: string[] = [];
    let last = since;
    for (let i = 0; i < options.trades.length && rows.length < count; i++) {
      const t = options.trades[i] as Trade;
      const at = ns[i] as bigint;
      if (t.symbol !== symbol || at <= since) continue;
      const seconds = `${at / 1_000_000_000n}.${String(at % 1_000_000_000n)
        .padStart(9, '0')
        .slice(0, 7)}`;
      rows.push(`["${t.price}","${t.size}",${seconds},"${t.side === 'buy' ? 'b' : 's'}","l","",${t.tradeId}]`);
      last = at;
    }
    return {
      status: 200,
      body: `{"error":[],"result":{"${pairName(symbol)}":[${rows.join(',')}],"last":"${last}"}}`,
    };
  }

  function connection(ws: WebSocket, n: number): void {
    const subscribed = new Set<string>();
    const start = playOnce(() => play(ws, n, subscribed));
    ws.on('message', (data) => {
      let req: { method?: string; params?: { channel?: string; symbol?: string[] }; req_id?: number };
      try {
        req = JSON.parse(data.toString());
      } catch {
        ws.send('{"error":"Malformed request","method":"","success":false}');
        return;
      }
      const time = new Date().toISOString();
      if (req.method === 'ping') {
        ws.send(JSON.stringify({ method: 'pong', req_id: req.req_id, time_in: time, time_out: time }));
        return;
      }
      if (req.method !== 'subscribe' || req.params?.channel !== 'trade' || !Array.isArray(req.params.symbol)) {
        ws.send(
          JSON.stringify({ error: 'Unsupported request', method: req.method, success: false, req_id: req.req_id }),
        );
        return;
      }
      for (const symbol of req.params.symbol) {
        subscribed.add(symbol);
        ws.send(
          JSON.stringify({
            method: 'subscribe',
            result: { channel: 'trade', snapshot: true, symbol },
            success: true,
            time_in: time,
            time_out: time,
            req_id: req.req_id,
          }),
        );
      }
      start();
    });
  }

  function frames(indexes: readonly number[], type: 'snapshot' | 'update', perFrame: number, subscribed: Set<string>) {
    const out: string[] = [];
    for (let i = 0; i < indexes.length; i += perFrame) {
      const data = indexes
        .slice(i, i + perFrame)
        .map((x) => options.trades[x] as Trade)
        .filter((t) => subscribed.has(t.symbol))
        .map(krakenTradeJson);
      if (data.length > 0) out.push(`{"channel":"trade","type":"${type}","data":[${data.join(',')}]}`);
    }
    return out;
  }

  function play(ws: WebSocket, n: number, subscribed: Set<string>): void {
    const script = options.script(n);
    if (!script) return;
    const all = [
      ...frames(script.snapshot ?? [], 'snapshot', Number.MAX_SAFE_INTEGER, subscribed),
      ...frames(script.send, 'update', script.perFrame ?? 3, subscribed),
    ];
    sendInTurns(ws, all, { after: script.after });
  }

  return startLocalServer({ wsPath: '/v2', rest, connection });
}
