// tickmesh dashboard: plain browser JavaScript, served as is (no build step, nothing from a CDN).
// Reads /api/v1 over REST for what already happened and /api/v1/stream for what happens next.

const CHART_CANDLES = 90;
/** The chart never draws candles wider than 1/MIN_SLOTS of its width. */
const MIN_SLOTS = 30;
const MAX_ALERTS = 100;
const STALE_MS = 15_000;

const state = {
  interval: '1m',
  simulated: false,
  /** key `exchange:symbol` -> { exchange, symbol, market, candle, prevClose, updatedAt, dirty, flash } */
  markets: new Map(),
  /** selected market key */
  selected: undefined,
  /** candles of the selected market, by open time */
  chart: new Map(),
  /** alert ids already shown */
  alertIds: new Set(),
  alerts: [],
  /** asset -> { value, updatedAt } */
  index: new Map(),
  received: 0,
  dropped: 0,
  connectedAt: undefined,
};

const $ = (id) => document.getElementById(id);

// ---------- formatting (decimals arrive as exact strings: shorten them as text, never via floats)

function groupThousands(intPart) {
  const neg = intPart.startsWith('-');
  const digits = neg ? intPart.slice(1) : intPart;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return neg ? `-${grouped}` : grouped;
}

/** A decimal string cut (not rounded) to `frac` fraction digits, padded to `minFrac`. */
function fmtDecimal(s, frac, minFrac = 0) {
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

function fmtPrice(s) {
  const frac = priceFrac(s);
  return fmtDecimal(s, frac, Math.min(2, frac));
}

function fmtNumber(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  const frac = priceFrac(n);
  return n.toLocaleString('en-US', { minimumFractionDigits: Math.min(2, frac), maximumFractionDigits: frac });
}

function fmtAge(ms) {
  if (ms === undefined) return '—';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

function fmtTime(ms) {
  return new Date(ms).toISOString().slice(11, 19);
}

function changePct(c) {
  const open = Number(c.open);
  const close = Number(c.close);
  if (!(open > 0)) return undefined;
  return ((close - open) / open) * 100;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

// ---------- candles

/** Whether `a` is a later state of the same window than `b` (the server's ordering). */
function newer(a, b) {
  if (a.openTime !== b.openTime) return a.openTime > b.openTime;
  if (a.revision !== b.revision) return a.revision > b.revision;
  if (a.closed !== b.closed) return a.closed;
  return a.trades > b.trades;
}

function marketKey(exchange, symbol) {
  return `${exchange}:${symbol}`;
}

function ensureMarket(m) {
  const key = marketKey(m.exchange, m.symbol);
  let row = state.markets.get(key);
  if (!row) {
    row = {
      key,
      exchange: m.exchange,
      symbol: m.symbol,
      market: m.market,
      candle: undefined,
      updatedAt: undefined,
      flash: undefined,
      dirty: true,
    };
    state.markets.set(key, row);
    tableShape = undefined;
    if (m.exchange === 'sim') setSimulated(true);
  }
  return row;
}

function onCandle(c) {
  if (c.interval !== state.interval) return;
  const row = ensureMarket(c);
  if (!row.candle || newer(c, row.candle)) {
    if (row.candle) {
      const before = Number(row.candle.close);
      const after = Number(c.close);
      if (after !== before) row.flash = after > before ? 'flash-up' : 'flash-down';
    }
    row.candle = c;
    row.updatedAt = Date.now();
    row.dirty = true;
  }
  if (row.key === state.selected) {
    const prev = state.chart.get(c.openTime);
    if (!prev || newer(c, prev)) {
      state.chart.set(c.openTime, c);
      trimChart();
      chartDirty = true;
    }
  }
  schedule();
}

function trimChart() {
  if (state.chart.size <= CHART_CANDLES) return;
  const times = [...state.chart.keys()].sort((a, b) => a - b);
  for (const t of times.slice(0, times.length - CHART_CANDLES)) state.chart.delete(t);
}

// ---------- markets table

let tableShape;
const rowNodes = new Map();

function renderTable() {
  const body = $('markets-body');
  const rows = [...state.markets.values()].sort(
    (a, b) => a.market.localeCompare(b.market) || a.exchange.localeCompare(b.exchange),
  );
  const shape = rows.map((r) => r.key).join('|');
  if (shape !== tableShape) {
    tableShape = shape;
    body.replaceChildren();
    rowNodes.clear();
    if (rows.length === 0) {
      body.append(el('tr', { class: 'empty' }, el('td', { colspan: '10', text: 'waiting for the first trades…' })));
    }
    for (const r of rows) {
      const tr = el('tr');
      tr.addEventListener('click', () => select(r.key));
      const cells = {};
      const add = (name, cls) => {
        const td = el('td', { class: cls });
        cells[name] = td;
        tr.append(td);
      };
      add('market', 'l market');
      add('exchange', 'l');
      for (const n of ['open', 'high', 'low', 'close', 'change', 'volume', 'trades', 'updated']) add(n, 'num');
      rowNodes.set(r.key, { tr, cells });
      body.append(tr);
      r.dirty = true;
    }
    $('markets-count').textContent = rows.length > 0 ? `${rows.length} · the open ${state.interval} candle, live` : '';
    $('change-head').textContent = `${state.interval} change`;
  }
  for (const r of rows) {
    const node = rowNodes.get(r.key);
    if (!node) continue;
    const { tr, cells } = node;
    tr.classList.toggle('selected', r.key === state.selected);
    tr.classList.toggle('stale', r.updatedAt === undefined || Date.now() - r.updatedAt > STALE_MS);
    cells.updated.textContent = r.updatedAt === undefined ? '—' : fmtAge(r.updatedAt);
    if (!r.dirty) continue;
    r.dirty = false;
    cells.market.textContent = r.market;
    cells.exchange.replaceChildren(
      r.exchange === 'sim' ? el('span', { class: 'tag-sim', text: 'sim' }) : document.createTextNode(r.exchange),
    );
    const c = r.candle;
    if (!c) {
      for (const n of ['open', 'high', 'low', 'close', 'change', 'volume', 'trades']) cells[n].textContent = '—';
      continue;
    }
    cells.open.textContent = fmtPrice(c.open);
    cells.high.textContent = fmtPrice(c.high);
    cells.low.textContent = fmtPrice(c.low);
    cells.close.textContent = fmtPrice(c.close);
    const pct = changePct(c);
    cells.change.textContent = pct === undefined ? '—' : `${pct >= 0 ? '+' : ''}${pct.toFixed(2)}%`;
    cells.change.className = `num ${pct > 0 ? 'up' : pct < 0 ? 'down' : 'muted'}`;
    cells.volume.textContent = fmtDecimal(c.volume, 4);
    cells.trades.textContent = String(c.trades);
    if (r.flash) {
      // Restart the animation: remove, force a reflow, add.
      cells.close.classList.remove('flash-up', 'flash-down');
      void cells.close.offsetWidth;
      cells.close.classList.add(r.flash);
      r.flash = undefined;
    }
  }
}

// ---------- chart

let chartDirty = true;
let chartRequest = 0;

async function select(key) {
  if (state.selected === key) return;
  state.selected = key;
  state.chart.clear();
  chartDirty = true;
  schedule();
  const row = state.markets.get(key);
  if (!row) return;
  $('chart-title').textContent = `${row.market} · ${row.exchange}`;
  $('chart-info').textContent = `${state.interval} candles · loading history…`;
  const request = ++chartRequest;
  try {
    const q = new URLSearchParams({
      exchange: row.exchange,
      symbol: row.symbol,
      interval: state.interval,
      limit: String(CHART_CANDLES),
    });
    const body = await getJson(`/api/v1/candles?${q}`);
    if (request !== chartRequest) return;
    for (const c of body.candles) {
      const prev = state.chart.get(c.openTime);
      if (!prev || newer(c, prev)) state.chart.set(c.openTime, c);
    }
    if (row.candle) {
      const prev = state.chart.get(row.candle.openTime);
      if (!prev || newer(row.candle, prev)) state.chart.set(row.candle.openTime, row.candle);
    }
    trimChart();
    $('chart-info').textContent =
      `${state.interval} candles · ${body.candles.length} closed from the store, then live over the WebSocket`;
  } catch (err) {
    if (request === chartRequest) $('chart-info').textContent = `history not loaded: ${err.message}`;
  }
  chartDirty = true;
  schedule();
}

function niceStep(range, target) {
  const raw = range / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const n = raw / pow;
  return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * pow;
}

function drawChart() {
  const canvas = $('chart');
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

  const candles = [...state.chart.values()].sort((a, b) => a.openTime - b.openTime);
  if (candles.length === 0) {
    ctx.fillStyle = color('--muted');
    ctx.textAlign = 'center';
    ctx.fillText(state.selected ? 'waiting for candles…' : 'select a market in the table', width / 2, height / 2);
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

// ---------- alerts and index

function onAlert(a, live) {
  if (state.alertIds.has(a.id)) return;
  state.alertIds.add(a.id);
  state.alerts.push(a);
  state.alerts.sort((x, y) => y.time - x.time || (y.id < x.id ? -1 : 1));
  for (const gone of state.alerts.splice(MAX_ALERTS)) state.alertIds.delete(gone.id);
  if (live && a.exchange === 'sim') setSimulated(true);
  alertsDirty = true;
  schedule();
}

let alertsDirty = true;

function renderAlerts() {
  const list = $('alerts-list');
  list.replaceChildren();
  if (state.alerts.length === 0) list.append(el('li', { class: 'empty', text: 'no alerts yet' }));
  for (const a of state.alerts) {
    const where = a.exchange === 'index' ? `${a.symbol} index` : `${a.market} · ${a.exchange}`;
    list.append(
      el(
        'li',
        {},
        el(
          'div',
          { class: 'meta' },
          el('span', { text: fmtTime(a.time) }),
          el('span', { class: `sev sev-${a.severity}`, text: a.severity }),
          el('span', { class: 'kind', text: a.kind.replace('_', ' ') }),
          el('span', { text: where }),
        ),
        el('div', { class: 'msg', text: a.message }),
      ),
    );
  }
  $('alerts-count').textContent = state.alerts.length > 0 ? `${state.alerts.length} newest` : '';
}

let indexDirty = true;

function onIndex(v) {
  const prev = state.index.get(v.asset);
  if (prev && prev.value.time > v.time) return;
  state.index.set(v.asset, { value: v, updatedAt: Date.now() });
  indexDirty = true;
  schedule();
}

function renderIndex() {
  const body = $('index-body');
  body.replaceChildren();
  const rows = [...state.index.values()].sort((a, b) => a.value.asset.localeCompare(b.value.asset));
  if (rows.length === 0)
    body.append(el('tr', { class: 'empty' }, el('td', { colspan: '4', text: 'no index value yet' })));
  for (const { value, updatedAt } of rows) {
    body.append(
      el(
        'tr',
        {},
        el('td', { class: 'l market', text: value.asset }),
        el('td', { text: fmtNumber(value.price) }),
        el('td', { text: String(value.venues?.length ?? 0) }),
        el('td', { text: fmtAge(updatedAt) }),
      ),
    );
  }
}

// ---------- page state

function setSimulated(on) {
  if (!on || state.simulated) return;
  state.simulated = true;
  $('sim-banner').hidden = false;
  document.title = 'tickmesh · SIMULATED data';
}

function setStatus(kind, text) {
  const node = $('status');
  node.className = `status status-${kind}`;
  node.textContent = text;
}

function showError(text) {
  const node = $('error-banner');
  node.hidden = text === undefined;
  node.textContent = text ?? '';
}

let scheduled = false;

function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    renderTable();
    if (chartDirty) {
      chartDirty = false;
      drawChart();
    }
    if (alertsDirty) {
      alertsDirty = false;
      renderAlerts();
    }
    if (indexDirty) {
      indexDirty = false;
      renderIndex();
    }
  });
}

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message ?? `${res.status} ${res.statusText}`);
  return body;
}

async function loadSnapshot() {
  const [markets, alerts] = await Promise.all([
    getJson(`/api/v1/markets?interval=${encodeURIComponent(state.interval)}`),
    getJson('/api/v1/alerts?limit=50'),
  ]);
  for (const m of markets.markets) {
    const row = ensureMarket(m);
    if (m.candle && (!row.candle || newer(m.candle, row.candle))) {
      row.candle = m.candle;
      row.updatedAt = m.lastSeen ?? undefined;
      row.dirty = true;
    }
  }
  for (const a of alerts.alerts) onAlert(a, false);
  if (state.selected === undefined && state.markets.size > 0) {
    const first = [...state.markets.values()].sort((a, b) => a.market.localeCompare(b.market))[0];
    select(first.key);
  }
  schedule();
}

// ---------- stream

let backoff = 500;

function connect() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${proto}//${location.host}/api/v1/stream`);
  setStatus('connecting', 'connecting');
  ws.addEventListener('open', () => {
    ws.send(
      JSON.stringify({
        subscribe: { candles: { interval: state.interval, exchange: '*', symbol: '*' }, alerts: true, index: true },
      }),
    );
  });
  ws.addEventListener('message', (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    switch (msg.type) {
      case 'hello':
        if (msg.simulated) setSimulated(true);
        $('source').textContent = `source: ${msg.source?.label ?? 'unknown'}`;
        break;
      case 'subscribed':
        backoff = 500;
        state.connectedAt = Date.now();
        setStatus('live', 'live');
        showError(undefined);
        loadSnapshot().catch((err) => showError(`could not load the snapshot: ${err.message}`));
        if (state.selected) {
          const key = state.selected;
          state.selected = undefined;
          select(key);
        }
        break;
      case 'candle':
        state.received += 1;
        onCandle(msg.data);
        break;
      case 'alert':
        state.received += 1;
        onAlert(msg.data, true);
        break;
      case 'index':
        state.received += 1;
        onIndex(msg.data);
        break;
      case 'dropped':
        state.dropped = msg.total;
        break;
      case 'error':
        showError(`stream: ${msg.error}`);
        break;
    }
  });
  ws.addEventListener('close', (ev) => {
    setStatus('down', `disconnected${ev.reason ? `: ${ev.reason}` : ''} · retrying`);
    setTimeout(connect, backoff);
    backoff = Math.min(10_000, backoff * 2);
  });
}

async function start() {
  try {
    const info = await getJson('/api/v1/info');
    state.interval = info.dashboardInterval ?? state.interval;
    $('source').textContent = `source: ${info.source?.label ?? 'unknown'}`;
    if (info.simulated) setSimulated(true);
  } catch (err) {
    showError(`API not reachable: ${err.message}`);
  }
  connect();
  let lastReceived = 0;
  setInterval(() => {
    $('clock').textContent = `${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC`;
    const rate = state.received - lastReceived;
    lastReceived = state.received;
    $('stream-stats').textContent =
      `stream: ${state.received.toLocaleString('en-US')} messages · ${rate}/s` +
      (state.dropped > 0 ? ` · ${state.dropped.toLocaleString('en-US')} dropped (the page fell behind)` : '');
    indexDirty = true;
    schedule();
  }, 1000);
  window.addEventListener('resize', () => {
    chartDirty = true;
    schedule();
  });
}

start();
