// Formatting for the page. Decimals arrive as exact strings: they are shortened as text, never
// through floats.

function groupThousands(intPart) {
  const neg = intPart.startsWith('-');
  const digits = neg ? intPart.slice(1) : intPart;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return neg ? `-${grouped}` : grouped;
}

/** A decimal string cut (not rounded) to `frac` fraction digits, padded to `minFrac`. */
export function fmtDecimal(s, frac, minFrac = 0) {
  if (s === undefined || s === null || s === '') return '—';
  const [intPart, fracPart = ''] = String(s).split('.');
  let f = fracPart.slice(0, frac);
  while (f.length > minFrac && f.endsWith('0')) f = f.slice(0, -1);
  while (f.length < minFrac) f += '0';
  return f.length > 0 ? `${groupThousands(intPart)}.${f}` : groupThousands(intPart);
}

/** Fraction digits for a price of this magnitude. */
function priceFrac(s) {
  const n = Math.abs(Number(s));
  if (n >= 1000) return 2;
  if (n >= 1) return 4;
  return 6;
}

export function fmtPrice(s) {
  const frac = priceFrac(s);
  return fmtDecimal(s, frac, Math.min(2, frac));
}

export function fmtNumber(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  const frac = priceFrac(n);
  return n.toLocaleString('en-US', { minimumFractionDigits: Math.min(2, frac), maximumFractionDigits: frac });
}

export function fmtAge(ms) {
  if (ms === undefined) return '—';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

export function fmtTime(ms) {
  return new Date(ms).toISOString().slice(11, 19);
}

/**
 * The open time `ms` of a candle as its interval names it, in UTC: the month of a 1M candle
 * (`2026-11`), the day of a day or week candle (`2026-11-28`), else the minute (`2026-11-28 14:05Z`,
 * with seconds for seconds intervals).
 */
export function fmtCandleTime(ms, interval) {
  const iso = new Date(ms).toISOString();
  const unit = interval.at(-1);
  if (unit === 'M') return iso.slice(0, 7);
  if (unit === 'd' || unit === 'w') return iso.slice(0, 10);
  return `${iso.slice(0, unit === 's' ? 19 : 16).replace('T', ' ')}Z`;
}

/** The change from open to close in percent; undefined without a positive open. */
export function changePct(c) {
  const open = Number(c.open);
  const close = Number(c.close);
  if (!(open > 0)) return undefined;
  return ((close - open) / open) * 100;
}
