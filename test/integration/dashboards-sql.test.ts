import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorConfig } from '../../internal/actor/config.js';
import { MarketActor } from '../../internal/actor/market-actor.js';
import { createActorOutput } from '../../internal/actor/output.js';
import type { Alert } from '../../internal/market/alert.js';
import type { Candle } from '../../internal/market/candle.js';
import type { IndicatorValues } from '../../internal/market/indicator-values.js';
import type { Interval } from '../../internal/market/interval.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { quoteIdent } from '../../internal/sink/sql.js';
import type { Store } from '../../internal/sink/store.js';
import { endpoint, freshName } from '../harness/env.js';
import { mismatchOf, seedVerification } from '../harness/verification-seed.js';
import { loadRealTrades } from '../support/real-trades.js';

// The market dashboard (dashboards/grafana/tickmesh-market.json) reads the candles and alerts
// tables through Grafana's PostgreSQL data source. Every SQL it holds (panels, annotations,
// template variables) runs here against the real PostgreSQL, on candles and alerts that the
// actor built from the real BTCUSDT trades of the shared data and the Store committed to a
// fresh schema, after the substitutions Grafana makes: template variables first (in the
// browser), then the data source's macros (on the server).

const FILE = fileURLToPath(new URL('../../dashboards/grafana/tickmesh-market.json', import.meta.url));
const PROVISIONING = new URL('../../dashboards/grafana/provisioning/', import.meta.url);
const DATASOURCE_TYPE = 'grafana-postgresql-datasource';
const INTERVALS: Interval[] = ['1s', '1m', '5m', '15m', '1h'];

interface SqlTarget {
  readonly refId: string;
  readonly rawSql: string;
  readonly format: string;
  readonly datasource: { type: string; uid: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { type: string; uid: string };
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly targets?: SqlTarget[];
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query: string;
  readonly datasource?: { type: string; uid: string };
  readonly multi?: boolean;
  readonly includeAll?: boolean;
}
interface Dashboard {
  readonly panels: Panel[];
  readonly templating: { list: Variable[] };
  readonly annotations: { list: { name: string; datasource: { type: string; uid: string }; target: SqlTarget }[] };
}

const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as Dashboard;

interface Query {
  readonly where: string;
  readonly sql: string;
}

function panelQueries(): Query[] {
  return dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel ${p.id} "${p.title}" ${t.refId}`, sql: t.rawSql })),
  );
}

function variable(name: string): Variable {
  const v = dashboard.templating.list.find((x) => x.name === name);
  if (!v) throw new Error(`no variable ${name}`);
  return v;
}

interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

/**
 * The SQL Grafana sends for `sql` with the variables set to `values` and the time range `range`.
 * Variables as Grafana's SQL data sources interpolate them: a single-valued variable goes in as
 * its text with quotes doubled (the query quotes it), a multi-valued one as a list of quoted
 * literals. Then the PostgreSQL macros as the data source expands them (RFC 3339 UTC instants).
 * A variable or macro this function does not know fails, so the dashboard cannot use one that
 * this test does not check.
 */
function grafanaSql(sql: string, values: Readonly<Record<string, string>>, range: TimeRange): string {
  const iso = (d: Date) => d.toISOString();
  const multi = new Set(dashboard.templating.list.filter((v) => v.multi || v.includeAll).map((v) => v.name));
  const interpolated = sql.replace(/\$\{(\w+)\}|\$(?!__)(\w+)/g, (whole, a?: string, b?: string) => {
    const name = (a ?? b) as string;
    const value = values[name];
    if (value === undefined) throw new Error(`${whole} is not a variable set by the test`);
    return multi.has(name) ? `'${value.replaceAll("'", "''")}'` : value.replaceAll("'", "''");
  });
  return interpolated.replace(/\$__(\w+)\(([^)]*)\)/g, (whole, macro: string, arg: string) => {
    switch (macro) {
      case 'timeFilter':
        return `${arg.trim()} BETWEEN '${iso(range.from)}' AND '${iso(range.to)}'`;
      case 'timeFrom':
        return `'${iso(range.from)}'`;
      case 'timeTo':
        return `'${iso(range.to)}'`;
      case 'time':
        return `${arg.trim()} AS "time"`;
      default:
        throw new Error(`${whole}: a macro the test does not expand`);
    }
  });
}

describe('the market dashboard against the real PostgreSQL', () => {
  const schema = freshName('it_dash').replaceAll('-', '_');
  let store: Store;
  /** A reader as Grafana's data source would be: its search_path names tickmesh's schema. */
  let reader: pg.Client;
  let closed: Candle[] = [];
  let alerts: Alert[] = [];
  let indicators: IndicatorValues[] = [];
  let range: TimeRange;
  let market: string;

  async function run(sql: string, values: Readonly<Record<string, string>>, r: TimeRange = range) {
    return (await reader.query(grafanaSql(sql, values, r))).rows as Record<string, unknown>[];
  }

  beforeAll(async () => {
    const trades = await loadRealTrades();
    const first = trades[0];
    if (!first) throw new Error('no trades');
    const actor = new MarketActor(
      { exchange: first.exchange, symbol: first.symbol, market: first.market },
      actorConfig({ intervals: INTERVALS, partialUpdates: false }),
    );
    const out = createActorOutput();
    for (const t of trades) actor.onTrade(t, 0, out);
    actor.flush(0, out);
    closed = [...out.closed];
    alerts = [...out.alerts];
    indicators = [...out.indicators];
    market = `${first.exchange}:${first.symbol}`;

    store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema, poolSize: 1 });
    await store.migrate();
    await store.commit({
      topic: schema,
      partition: 0,
      epoch: 1,
      nextOffset: BigInt(trades.length),
      state: new Uint8Array(),
      candles: closed,
      alerts,
      indicators,
    });
    // The reconciler's judgements of three 1m candles, written into their rows as it writes them.
    const seed = new pg.Client({ connectionString: endpoint('DATABASE_URL') });
    await seed.connect();
    try {
      const sql = (text: string, params: unknown[]) => seed.query(text, params);
      const table = `${quoteIdent(schema)}.candles`;
      const [a, b, c] = closed.filter((x) => x.interval === '1m');
      if (!a || !b || !c) throw new Error('fewer than three 1m candles');
      await seedVerification(sql, a, { status: 'verified', revision: 0, checkedAt: a.closeTime + 1 }, table);
      await seedVerification(sql, b, { ...mismatchOf(0, b.closeTime + 1), likelyCause: 'gap' }, table);
      await seedVerification(sql, c, { status: 'unverifiable', revision: 0, reason: 'none', checkedAt: 0 }, table);
    } finally {
      await seed.end();
    }
    const start = Math.min(...closed.map((c) => c.openTime));
    const end = Math.max(...closed.map((c) => c.closeTime), ...alerts.map((a) => a.time));
    range = { from: new Date(start), to: new Date(end + 1) };
    reader = new pg.Client({
      connectionString: endpoint('DATABASE_URL'),
      options: `-c search_path=${quoteIdent(schema)}`,
    });
    await reader.connect();
  });

  afterAll(async () => {
    await reader?.end();
    await store?.close();
    const admin = new pg.Client({ connectionString: endpoint('DATABASE_URL') });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await admin.end();
  });

  it('reads every query through the PostgreSQL data source of the datasource variable', () => {
    expect(variable('datasource')).toMatchObject({ type: 'datasource', query: DATASOURCE_TYPE });
    // Grafana's variable syntax, not a template string.
    const ds = { type: DATASOURCE_TYPE, uid: ['$', '{datasource}'].join('') };
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource, p.title).toEqual(ds);
      for (const t of p.targets ?? []) expect(t.datasource, p.title).toEqual(ds);
    }
    for (const a of dashboard.annotations.list) expect(a.datasource, a.name).toEqual(ds);
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) expect(v.datasource).toEqual(ds);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    expect(dashboard.panels.map((p) => p.type)).toEqual(expect.arrayContaining(['candlestick', 'timeseries', 'table']));
    // The provisioned data sources offer the type each dashboard's datasource variable asks for.
    const provisioned = readFileSync(new URL('datasources/tickmesh.yaml', PROVISIONING), 'utf8');
    const types = [...provisioned.matchAll(/^\s+type: (\S+)$/gm)].map((m) => m[1]);
    expect(types).toEqual([DATASOURCE_TYPE, 'prometheus']);
    const providers = readFileSync(new URL('dashboards/tickmesh.yaml', PROVISIONING), 'utf8');
    expect(providers).toMatch(/^\s+type: file$/m);
  });

  it('lists the stored markets and their intervals, finest first, in the template variables', async () => {
    const markets = await run(variable('market').query, {});
    expect(markets).toEqual([{ __text: 'BTC-USDT · binance-futures BTCUSDT', __value: market }]);
    const intervals = await run(variable('interval').query, { market });
    expect(intervals.map((r) => r.__value)).toEqual(INTERVALS);
    expect(await run(variable('interval').query, { market: 'binance:NOSUCH' })).toEqual([]);
  });

  it('returns rows for every panel query at 1m, the candles equal to the stored ones', async () => {
    const values = { market, interval: '1m' };
    const queries = panelQueries();
    expect(queries.length).toBeGreaterThanOrEqual(10);
    const empty: string[] = [];
    for (const q of queries) if ((await run(q.sql, values)).length === 0) empty.push(q.where);
    expect(empty).toEqual([]);

    const candles = dashboard.panels.find((p) => p.type === 'candlestick')?.targets?.[0];
    const rows = await run(candles?.rawSql ?? '', values);
    const minute = closed.filter((c) => c.interval === '1m');
    expect(rows).toHaveLength(minute.length);
    expect(rows.map((r) => [(r.time as Date).getTime(), r.open, r.high, r.low, r.close, r.volume])).toEqual(
      minute.map((c) => [c.openTime, Number(c.open), Number(c.high), Number(c.low), Number(c.close), Number(c.volume)]),
    );
  });

  it('computes the realized volatility and the VWAPs from the stored candles', async () => {
    const values = { market, interval: '1m' };
    const sqlOf = (title: string) => {
      const t = dashboard.panels.find((p) => p.title === title)?.targets?.[0];
      if (!t) throw new Error(`no panel ${title}`);
      return t.rawSql;
    };
    const minute = closed.filter((c) => c.interval === '1m');
    const closes = minute.map((c) => Number(c.close));
    const returns = closes.slice(1).map((c, i) => Math.log(c / (closes[i] as number)));
    const sd = (xs: number[]) => {
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    };
    const annual = Math.sqrt((365 * 86_400) / 60) * 100;

    // The rolling series: one point per candle with 30 returns behind it, the last one over the last 30.
    const rolling = await run(sqlOf('Realized volatility'), values);
    expect(rolling).toHaveLength(minute.length - 30);
    const last = rolling.at(-1) as Record<string, unknown>;
    expect(Object.values(last)[1] as number).toBeCloseTo(sd(returns.slice(-30)) * annual, 6);
    const over = await run(sqlOf('Realized volatility (range)'), values);
    expect(Object.values(over[0] ?? {})[0] as number).toBeCloseTo(sd(returns) * annual, 6);

    const volume = minute.reduce((a, c) => a + Number(c.volume), 0);
    const quote = minute.reduce((a, c) => a + Number(c.quoteVolume), 0);
    const [rangeVwap] = await run(sqlOf('VWAP (range)'), values);
    expect(rangeVwap?.VWAP as number).toBeCloseTo(quote / volume, 6);
    expect(rangeVwap?.trades).toBe(minute.reduce((a, c) => a + c.trades, 0));
    const vwap = await run(sqlOf('VWAP'), values);
    expect(vwap.at(-1)?.['VWAP since range start'] as number).toBeCloseTo(quote / volume, 6);
    const traded = minute.filter((c) => c.trades > 0);
    expect(vwap.filter((r) => r['candle VWAP'] !== null).map((r) => r['candle VWAP'])).toEqual(
      traded.map((c) => Number(c.vwap)),
    );
  });

  it('draws the stored indicators: every SMA and EMA period, volatility and imbalance', async () => {
    const values = { market, interval: '1m' };
    const sqlOf = (title: string) => dashboard.panels.find((p) => p.title === title)?.targets?.[0]?.rawSql ?? '';
    const minute = indicators.filter((v) => v.interval === '1m');
    const series = await run(sqlOf('Moving averages (indicators)'), values);
    const want = minute.flatMap((v) =>
      (['sma', 'ema'] as const).flatMap((kind) =>
        Object.entries(v[kind])
          .filter(([, x]) => x !== null)
          .map(([period, x]) => `${v.openTime} ${kind.toUpperCase()} ${period} ${x}`),
      ),
    );
    expect(want.length).toBeGreaterThan(minute.length);
    expect(series.map((r) => `${(r.time as Date).getTime()} ${r.metric} ${r.value}`).sort()).toEqual(want.sort());
    const rows = await run(sqlOf('Volatility and imbalance (indicators)'), values);
    expect(
      rows.map((r) => [(r.time as Date).getTime(), r['volatility (annualized)'], r['taker buy/sell imbalance']]),
    ).toEqual(minute.map((v) => [v.openTime, v.volatility, v.imbalance]));
  });

  it('shows the stored alerts of the market as annotations, with their kind and severity as tags', async () => {
    expect(alerts.map((a) => a.kind)).toEqual(expect.arrayContaining(['whale_trade', 'price_spike', 'volume_spike']));
    const [annotation] = dashboard.annotations.list;
    const rows = await run(annotation?.target.rawSql ?? '', { market });
    expect(rows).toHaveLength(alerts.length);
    for (const r of rows) expect(Object.keys(r).sort()).toEqual(['tags', 'text', 'time']);
    expect(rows.map((r) => r.tags).sort()).toEqual(alerts.map((a) => `${a.kind},${a.severity}`).sort());
    expect(rows.map((r) => (r.time as Date).getTime())).toEqual(alerts.map((a) => a.time).sort((a, b) => a - b));
    expect(await run(annotation?.target.rawSql ?? '', { market: 'binance:NOSUCH' })).toEqual([]);
  });

  it('runs every query at every stored interval and at a range with no candles without an error', async () => {
    const queries = [
      ...panelQueries(),
      ...dashboard.annotations.list.map((a) => ({ where: `annotation ${a.name}`, sql: a.target.rawSql })),
    ];
    const before = { from: new Date(range.from.getTime() - 86_400_000), to: new Date(range.from.getTime() - 1) };
    let ran = 0;
    for (const interval of INTERVALS) {
      for (const q of queries) {
        const rows = await run(q.sql, { market, interval });
        // At most the newest 5,000 candles of the range reach the browser (the 1s candles are more).
        expect(rows.length, `${q.where} at ${interval}`).toBeLessThanOrEqual(20_000);
        expect(await run(q.sql, { market, interval }, before), `${q.where} before the data`).toEqual([]);
        ran += 2;
      }
    }
    expect(ran).toBe(INTERVALS.length * queries.length * 2);
    const candles = dashboard.panels.find((p) => p.type === 'candlestick')?.targets?.[0];
    expect(await run(candles?.rawSql ?? '', { market, interval: '1s' })).toHaveLength(5_000);
  });

  it('counts the verification by interval and lists the mismatches with the fields that differ', async () => {
    const sqlOf = (title: string) => dashboard.panels.find((p) => p.title === title)?.targets?.[0]?.rawSql ?? '';
    const rows = await run(sqlOf('Verification against the venue'), { market });
    expect(rows.map((r) => r.interval)).toEqual(INTERVALS);
    const minute = closed.filter((c) => c.interval === '1m').length;
    expect(rows[1]).toEqual({
      interval: '1m',
      verified: '1',
      mismatch: '1',
      unverifiable: '1',
      pending: String(minute - 3),
      'verified %': '33.33',
    });
    expect(rows[0]).toMatchObject({ interval: '1s', verified: '0', 'verified %': null });
    const [b] = closed.filter((x) => x.interval === '1m').slice(1);
    const mismatches = await run(sqlOf('Verification mismatches'), { market });
    expect(mismatches).toEqual([
      {
        time: new Date(b?.openTime ?? 0),
        interval: '1m',
        revision: 0,
        differences: 'volume: ours 1.23456789, venue 1.33456789',
        'likely cause': 'gap',
        'checked at': new Date((b?.closeTime ?? 0) + 1),
      },
    ]);
  });

  it('fails a query that names a variable or macro Grafana would not fill in', () => {
    expect(() => grafanaSql("SELECT '$nope'", {}, range)).toThrow('$nope is not a variable');
    expect(() => grafanaSql('SELECT $__timeGroup(open_time, 1m)', {}, range)).toThrow(
      'a macro the test does not expand',
    );
    expect(grafanaSql("WHERE m = '$market' AND $__timeFilter(t)", { market: "a'b" }, range)).toBe(
      `WHERE m = 'a''b' AND t BETWEEN '${range.from.toISOString()}' AND '${range.to.toISOString()}'`,
    );
  });
});
