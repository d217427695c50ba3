// An answer's chart. The server decides the chart ({"type","x","y","spec","note"}); the page only
// draws it: a Vega-Lite spec through vega-embed (SVG, no action menu, expressions run by Vega's
// interpreter so the page never needs eval), a single value as a large figure, nothing for a
// table. The spec can load nothing: its loader refuses every URL.

import embed from 'vega-embed';
import { loader as vegaLoader } from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { h } from './dom.js';
import { formatNumber, formatCell, humanizeColumn } from './format.js';

const FONT =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", ' +
  '"Liberation Sans", "DejaVu Sans", Arial, sans-serif';
const ACCENT = '#3461e0';

// Our look, merged under the spec's own config (the spec's settings win).
const CHART_CONFIG = {
  font: FONT,
  background: null,
  padding: 4,
  view: { stroke: null },
  axis: {
    labelColor: '#5a6275',
    titleColor: '#394152',
    labelFont: FONT,
    titleFont: FONT,
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 600,
    titlePadding: 10,
    gridColor: '#e9ecf1',
    domainColor: '#c5cbd6',
    tickColor: '#c5cbd6',
  },
  legend: { labelFont: FONT, titleFont: FONT, labelColor: '#5a6275', titleColor: '#394152' },
  title: { font: FONT, color: '#1c2230' },
  mark: { color: ACCENT },
  line: { color: ACCENT, strokeWidth: 2.25 },
  point: { color: ACCENT, filled: true },
  bar: { color: ACCENT, cornerRadiusEnd: 2 },
  area: { color: ACCENT },
  range: {
    category: [
      '#3461e0',
      '#f08c2e',
      '#1f9d8b',
      '#d6456a',
      '#7a5cd6',
      '#8a9a2c',
      '#2d9fd9',
      '#a0662b',
    ],
  },
};

// A loader that fetches nothing: charts come with their data inline, and an answer must never
// make the page load anything from anywhere.
function refusingLoader() {
  const refuse = () => Promise.reject(new Error('charts may not load external resources'));
  const l = vegaLoader();
  l.load = refuse;
  l.sanitize = refuse;
  l.http = refuse;
  l.file = refuse;
  return l;
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The column index that a single-value answer shows: chart.y[0], else the first column. */
function figureColumn(chart, columns) {
  const wanted = Array.isArray(chart?.y) && chart.y.length > 0 ? chart.y[0] : null;
  const index = wanted === null ? -1 : columns.indexOf(wanted);
  return index >= 0 ? index : 0;
}

function renderFigure(container, chart, columns, rows) {
  const index = figureColumn(chart, columns);
  const value = rows.length > 0 ? rows[0][index] : null;
  const text = typeof value === 'number' ? formatNumber(value) : formatCell(value).text;
  container.append(
    h(
      'div',
      { class: 'figure' },
      h('div', { class: `figure-value${value === null ? ' is-null' : ''}`, text }),
      h('div', { class: 'figure-label', text: humanizeColumn(columns[index] ?? '') }),
    ),
  );
}

/**
 * What an answer's chart will be, decided before drawing (so the page can lay itself out):
 * "chart" (a Vega-Lite spec), "figure" (a single value) or "none".
 */
export function chartKind(chart, columns, rows) {
  if (!isPlainObject(chart)) return 'none';
  if (chart.type === 'number') return columns.length > 0 && rows.length > 0 ? 'figure' : 'none';
  if (chart.type === 'table' || !isPlainObject(chart.spec)) return 'none';
  return 'chart';
}

/**
 * Draws chart into container (which must be in the document, so that a spec with
 * width "container" can measure it). Resolves to "figure", "chart", "error" or "none" (nothing
 * drawn, container left empty); never rejects.
 */
export async function renderChart(container, chart, columns, rows) {
  const kind = chartKind(chart, columns, rows);
  if (kind === 'none') return 'none';
  if (kind === 'figure') {
    renderFigure(container, chart, columns, rows);
    return 'figure';
  }
  // The spec may not pass options to vega-embed (usermeta.embedOptions would override ours).
  const { usermeta: _ignored, ...spec } = chart.spec;
  const target = h('div', { class: 'vega-target' });
  container.append(target);
  try {
    await embed(target, spec, {
      renderer: 'svg',
      actions: false,
      ast: true,
      expr: expressionInterpreter,
      loader: refusingLoader(),
      config: CHART_CONFIG,
      logLevel: 0,
      tooltip: { theme: 'light' },
    });
    return 'chart';
  } catch {
    target.remove();
    container.append(h('p', { class: 'chart-error', text: 'The chart could not be drawn.' }));
    return 'error';
  }
}
