// A candlestick chart with volume bars on a canvas, in the page's CSS colours.

import { fmtPrice } from './format.js';

/** The chart never draws candles wider than 1/MIN_SLOTS of its width. */
const MIN_SLOTS = 30;

function niceStep(range, target) {
  const raw = range / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const n = raw / pow;
  return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * pow;
}

/** Draws `candles` (oldest first) on `canvas`, or `emptyText` when there are none. */
export function drawCandles(canvas, candles, emptyText) {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const style = getComputedStyle(document.documentElement);
  const color = (name) => style.getPropertyValue(name).trim();
  ctx.font = '11px system-ui, sans-serif';

  if (candles.length === 0) {
    ctx.fillStyle = color('--muted');
    ctx.textAlign = 'center';
    ctx.fillText(emptyText, width / 2, height / 2);
    return;
  }
  const axisW = 78;
  const axisH = 20;
  const plotW = width - axisW - 8;
  const volH = Math.round((height - axisH) * 0.18);
  const priceH = height - axisH - volH - 12;
  let lo = Infinity;
  let hi = -Infinity;
  let vmax = 0;
  for (const c of candles) {
    lo = Math.min(lo, Number(c.low));
    hi = Math.max(hi, Number(c.high));
    vmax = Math.max(vmax, Number(c.volume));
  }
  if (hi === lo) {
    hi += Math.abs(hi) * 0.001 || 1;
    lo -= Math.abs(lo) * 0.001 || 1;
  }
  const pad = (hi - lo) * 0.06;
  hi += pad;
  lo -= pad;
  const y = (p) => 6 + ((hi - p) / (hi - lo)) * priceH;
  // Fewer candles than the chart holds: wider candles, still right-aligned, rather than slivers.
  const slots = Math.max(MIN_SLOTS, candles.length);
  const slot = plotW / slots;
  const firstSlot = slots - candles.length;
  const x = (i) => (firstSlot + i) * slot + slot / 2;

  // Price grid and labels.
  const step = niceStep(hi - lo, 6);
  ctx.strokeStyle = color('--line');
  ctx.fillStyle = color('--muted');
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.lineWidth = 1;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const last = candles[candles.length - 1];
  const ly = Math.round(y(Number(last.close))) + 0.5;
  for (let p = Math.ceil(lo / step) * step; p <= hi; p += step) {
    const yy = Math.round(y(p)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(0, yy);
    ctx.lineTo(plotW, yy);
    ctx.stroke();
    // The last price's tag takes this place on the axis.
    if (Math.abs(yy - ly) < 14) continue;
    ctx.fillText(
      p.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals }),
      plotW + 6,
      yy,
    );
  }

  // Time labels at least 90 px apart, counted back from the newest candle so that it has one.
  const every = Math.max(1, Math.ceil(90 / slot));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  candles.forEach((c, i) => {
    if ((candles.length - 1 - i) % every !== 0) return;
    const xx = Math.round(x(i)) + 0.5;
    ctx.strokeStyle = color('--line');
    ctx.beginPath();
    ctx.moveTo(xx, 0);
    ctx.lineTo(xx, height - axisH);
    ctx.stroke();
    ctx.fillStyle = color('--muted');
    ctx.fillText(`${new Date(c.openTime).toISOString().slice(11, 16)}Z`, xx, height - axisH + 4);
  });

  // Candles and volume.
  const bodyW = Math.max(1, Math.floor(slot * 0.7));
  const volTop = height - axisH - volH;
  candles.forEach((c, i) => {
    const open = Number(c.open);
    const close = Number(c.close);
    const up = close >= open;
    const col = c.trades === 0 ? color('--muted') : up ? color('--up') : color('--down');
    const xx = Math.round(x(i));
    ctx.strokeStyle = col;
    ctx.fillStyle = col;
    ctx.globalAlpha = c.closed ? 1 : 0.75;
    ctx.beginPath();
    ctx.moveTo(xx + 0.5, y(Number(c.high)));
    ctx.lineTo(xx + 0.5, y(Number(c.low)));
    ctx.stroke();
    const top = y(Math.max(open, close));
    const h = Math.max(1, y(Math.min(open, close)) - top);
    ctx.fillRect(xx - Math.floor(bodyW / 2), top, bodyW, h);
    if (vmax > 0) {
      const vh = (Number(c.volume) / vmax) * volH;
      ctx.globalAlpha = 0.35;
      ctx.fillRect(xx - Math.floor(bodyW / 2), volTop + volH - vh, bodyW, vh);
    }
    ctx.globalAlpha = 1;
  });

  // Last price marker.
  ctx.setLineDash([3, 3]);
  ctx.strokeStyle = color('--accent');
  ctx.beginPath();
  ctx.moveTo(0, ly);
  ctx.lineTo(plotW, ly);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = color('--accent');
  ctx.fillRect(plotW + 2, ly - 9, axisW - 4, 18);
  ctx.fillStyle = '#0b0f13';
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.fillText(fmtPrice(last.close), plotW + 6, ly);
  ctx.fillStyle = color('--muted');
  ctx.textBaseline = 'top';
  ctx.fillText('volume', 4, volTop);
}
