// The chart itself: TradingView's Lightweight Charts (served from node_modules by the API, no CDN),
// candles and volume on the price pane, indicator lines on it or in panes of their own below.

import {
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  LineSeries,
} from './vendor/lightweight-charts.js';

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** Chart time (UTC seconds) of an open time in ms. */
export const chartTime = (ms) => Math.floor(ms / 1000);

function bar(c) {
  const time = chartTime(c.openTime);
  const candle = { time, open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close) };
  const up = candle.close >= candle.open;
  // An empty candle (no trades) in the muted colour, as exchanges draw them.
  if (c.trades === 0) Object.assign(candle, { color: css('--muted'), wickColor: css('--muted') });
  const volume = { time, value: Number(c.volume), color: up ? 'rgba(46, 189, 133, 0.35)' : 'rgba(240, 97, 109, 0.35)' };
  return { candle, volume };
}

/**
 * A chart in `container`. `onNeedOlder()` runs when the user scrolls near the oldest candle;
 * `onCrosshair(candle | undefined)` when the crosshair moves over a candle or leaves;
 * `timeLabel(ms)` names a candle's open time on the crosshair (by the interval shown).
 */
export function createPriceChart(container, { onNeedOlder, onCrosshair, timeLabel }) {
  const chart = createChart(container, {
    autoSize: true,
    layout: {
      background: { type: ColorType.Solid, color: css('--panel') },
      textColor: css('--muted'),
      fontSize: 11,
      panes: { separatorColor: css('--line') },
      // Its logo comes with an inline style sheet, which the page's CSP refuses: the footer
      // carries the attribution (and the link) that the library's NOTICE asks for instead.
      attributionLogo: false,
    },
    grid: { vertLines: { color: css('--line') }, horzLines: { color: css('--line') } },
    crosshair: { mode: CrosshairMode.Normal },
    rightPriceScale: { borderColor: css('--line') },
    timeScale: { borderColor: css('--line'), timeVisible: true, secondsVisible: false, rightOffset: 4 },
    localization: { timeFormatter: (t) => timeLabel(t * 1000) },
  });
  const candles = chart.addSeries(CandlestickSeries, {
    upColor: css('--up'),
    downColor: css('--down'),
    wickUpColor: css('--up'),
    wickDownColor: css('--down'),
    borderVisible: false,
  });
  const volume = chart.addSeries(HistogramSeries, {
    priceFormat: { type: 'volume' },
    priceScaleId: 'volume',
    lastValueVisible: false,
    priceLineVisible: false,
  });
  volume.priceScale().applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
  const markers = createSeriesMarkers(candles, []);
  /** id -> line series */
  const lines = new Map();
  let lastTime;

  chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
    if (range && range.from < 10 && candles.data().length > 0) onNeedOlder();
  });
  chart.subscribeCrosshairMove((p) => onCrosshair(p.time === undefined ? undefined : p.seriesData.get(candles)));

  return {
    /** Replaces every candle (oldest first); the view stays where it was relative to the newest. */
    setCandles(list) {
      const bars = list.map(bar);
      candles.setData(bars.map((b) => b.candle));
      volume.setData(bars.map((b) => b.volume));
      lastTime = bars.at(-1)?.candle.time;
    },
    /** One candle, the newest or a new one; false when it is older (then setCandles is needed). */
    updateCandle(c) {
      const b = bar(c);
      if (lastTime !== undefined && b.candle.time < lastTime) return false;
      candles.update(b.candle);
      volume.update(b.volume);
      lastTime = b.candle.time;
      return true;
    },
    /** Shows line `id` with `points` ({time (ms), value}); `pane` 0 is the price pane. */
    setLine(id, { pane, color, title }, points) {
      let line = lines.get(id);
      if (line && line.getPane().paneIndex() !== pane) line.moveToPane(pane);
      if (!line) {
        line = chart.addSeries(
          LineSeries,
          { color, title, lineWidth: pane === 0 ? 2 : 1, priceLineVisible: false, lastValueVisible: true },
          pane,
        );
        lines.set(id, line);
      }
      line.setData(points.map((p) => ({ time: chartTime(p.time), value: p.value })));
    },
    removeLine(id) {
      const line = lines.get(id);
      if (!line) return;
      chart.removeSeries(line);
      lines.delete(id);
      const panes = chart.panes();
      for (let i = panes.length - 1; i > 0; i--) if (panes[i].getSeries().length === 0) chart.removePane(i);
    },
    lineIds: () => [...lines.keys()],
    /** Markers on candles: [{ time (ms), text, color, position? (default above), shape? (default arrow) }]. */
    setMarkers(list) {
      markers.setMarkers(
        list
          .map((m) => ({
            time: chartTime(m.time),
            position: m.position ?? 'aboveBar',
            shape: m.shape ?? 'arrowDown',
            color: m.color,
            text: m.text,
          }))
          .sort((a, b) => a.time - b.time),
      );
    },
    /** Scrolls and zooms so that the candle opening at `ms` is in the middle. */
    showTime(ms) {
      const index = candles.data().findIndex((b) => b.time >= chartTime(ms));
      if (index < 0) return;
      chart.timeScale().setVisibleLogicalRange({ from: index - 40, to: index + 40 });
    },
    /** The x coordinate (px from the chart's left) of the candle opening at `ms`, null when not in view. */
    candleX(ms) {
      return chart.timeScale().timeToCoordinate(chartTime(ms));
    },
    /** Back to the newest candle. */
    showNewest() {
      chart.timeScale().scrollToRealTime();
    },
    /** What is drawn, for the browser test: points per series, the panes, the visible range. */
    stats() {
      const times = chart.timeScale().getVisibleRange();
      return {
        candles: candles.data().length,
        volume: volume.data().length,
        firstTime: candles.data()[0]?.time,
        lastTime: candles.data().at(-1)?.time,
        lines: Object.fromEntries([...lines].map(([id, s]) => [id, s.data().length])),
        panes: chart.panes().length,
        markers: markers.markers().length,
        visibleTime: times ? { from: times.from, to: times.to } : undefined,
      };
    },
  };
}
