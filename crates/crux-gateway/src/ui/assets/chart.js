// A small SVG line chart: time on x, one or more series on y, gridlines, axis labels and a legend.
const NS = 'http://www.w3.org/2000/svg';
export const COLORS = ['#2f6fde', '#e0662a', '#1d8a4e', '#9b3fc4', '#c8342a', '#0f8fa3', '#b08a00', '#555f6d'];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Round `max` up to 1, 2 or 5 times a power of ten, so gridlines land on readable values. */
function niceMax(max) {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (max <= m * p) return m * p;
  return 10 * p;
}

function label(v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  if (Number.isInteger(v)) return String(v);
  return v < 1 ? String(Number(v.toPrecision(2))) : v.toFixed(2);
}

/**
 * `lineChart({title, series: [{name, points: [[x, y|null], …]}], xMin, xMax, xLabel: fn, unit})` → a card element
 * with the chart. Points with a null y break the line.
 */
export function lineChart({ title, series, xMin, xMax, xLabel, unit = '' }) {
  const W = 400, H = 180, L = 44, R = 8, T = 8, B = 22;
  const ys = series.flatMap((s) => s.points.map((p) => p[1]).filter((y) => y !== null && y !== undefined));
  const yMax = niceMax(Math.max(0, ...ys));
  const x = (v) => L + ((v - xMin) / Math.max(1, xMax - xMin)) * (W - L - R);
  const y = (v) => T + (1 - v / yMax) * (H - T - B);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title });
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    root.append(svg('line', { class: 'grid-line', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    root.append(svg('text', { x: L - 4, y: y(v) + 3, 'text-anchor': 'end' }, label(v) + (i === 4 ? unit : '')));
  }
  for (let i = 0; i <= 4; i++) {
    const v = xMin + ((xMax - xMin) * i) / 4;
    root.append(svg('text', { x: x(v), y: H - 6, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, xLabel(v)));
  }
  root.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    let d = '';
    let pen = 'M';
    for (const [px, py] of s.points) {
      if (py === null || py === undefined) { pen = 'M'; continue; }
      d += `${pen}${x(px).toFixed(1)},${y(py).toFixed(1)} `;
      pen = 'L';
    }
    if (d) root.append(svg('path', { class: 'line', d, stroke: color, 'data-series': s.name }));
    for (const [px, py] of s.points) {
      if (py !== null && py !== undefined) root.append(svg('circle', { cx: x(px), cy: y(py), r: 1.6, fill: color }));
    }
  });
  const card = document.createElement('div');
  card.className = 'card chart';
  const h = document.createElement('h3');
  h.textContent = title;
  const legend = document.createElement('div');
  legend.className = 'legend';
  series.forEach((s, i) => {
    const item = document.createElement('span');
    const sw = document.createElement('i');
    sw.style.background = COLORS[i % COLORS.length];
    item.append(sw, s.name);
    legend.append(item);
  });
  card.append(h, root, legend);
  return card;
}
