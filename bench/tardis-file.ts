import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rng } from './actor.bench.js';

/**
 * Writes a synthetic tardis.dev `trades` CSV (the layout of /work/shared/data's BTCUSDT file):
 * `markets` USD-M symbols with Zipf activity (the busiest holds ~1/H(markets) of the trades),
 * consecutive ids per market, prices in a random walk with the decimals such markets print,
 * `ratePerSecond` trades per second of event time overall, times in µs. Deterministic.
 */
export interface TardisFileSpec {
  readonly path: string;
  readonly trades: number;
  readonly markets: number;
  readonly ratePerSecond: number;
}

/** `v` ticks of 10^-d as tardis prints it. */
function fixed(v: number, d: number): string {
  if (d === 0) return String(v);
  const s = String(v).padStart(d + 1, '0');
  // tardis prints numbers without trailing zeros (9682, 0.13), as the real file shows.
  return `${s.slice(0, s.length - d)}.${s.slice(s.length - d)}`.replace(/\.?0+$/, '');
}

export async function writeTardisFile(spec: TardisFileSpec): Promise<void> {
  const random = rng(7);
  const cumulative = new Float64Array(spec.markets);
  let total = 0;
  for (let i = 0; i < spec.markets; i++) total += 1 / (i + 1);
  let c = 0;
  for (let i = 0; i < spec.markets; i++) {
    c += 1 / (i + 1) / total;
    cumulative[i] = c;
  }
  const markets = Array.from({ length: spec.markets }, (_, i) => {
    const magnitude = spec.markets === 1 ? 9_680 : 10 ** (random() * 8.8 - 4);
    const pd = Math.max(0, Math.min(8, 4 - Math.floor(Math.log10(magnitude))));
    const sd = spec.markets === 1 ? 3 : Math.floor(random() * 6);
    return {
      symbol: spec.markets === 1 ? 'BTCUSDT' : `M${i}USDT`,
      ticks: Math.max(1, Math.round(magnitude * 10 ** pd)),
      pd,
      sd,
      maxSize: Math.max(1, Math.round((5_000 / magnitude) * 10 ** sd)),
      nextId: 42_377_944 + i * 7,
    };
  });
  const out = createWriteStream(spec.path, { highWaterMark: 1 << 20 });
  let text = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n';
  let timeUs = Date.UTC(2020, 1, 22) * 1000 + 2_111_000;
  const meanGapUs = 1e6 / spec.ratePerSecond;
  for (let n = 0; n < spec.trades; n++) {
    timeUs += Math.floor(-Math.log(1 - random()) * meanGapUs);
    let m = markets[0] as (typeof markets)[number];
    if (spec.markets > 1) {
      const r = random();
      let lo = 0;
      let hi = spec.markets - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cumulative[mid] as number) < r) lo = mid + 1;
        else hi = mid;
      }
      m = markets[lo] as typeof m;
    }
    m.ticks = Math.max(1, m.ticks + Math.floor(random() * 7) - 3);
    const size = 1 + Math.floor(random() ** 3 * m.maxSize);
    text +=
      `binance-futures,${m.symbol},${timeUs},${timeUs + 300_000 + Math.floor(random() * 10_000)},${m.nextId++},` +
      `${random() < 0.5 ? 'buy' : 'sell'},${fixed(m.ticks, m.pd)},${fixed(size, m.sd)}\n`;
    if (text.length > 1 << 20) {
      if (!out.write(text)) await once(out, 'drain');
      text = '';
    }
  }
  out.end(text);
  await once(out, 'finish');
}
