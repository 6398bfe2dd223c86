// The equity and drawdown chart of a run, drawn as SVG from result.equity_curve (no chart library;
// the PNG at /strategies/runs/{id}/chart is the same picture for the CLI and for files).
const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** curve: [[iso time, value], ...]; initial: starting cash; labels.title names it for screen
 * readers (the heading above the chart says which part is which). Returns an <svg>. */
export function equityChart(curve, initial, labels) {
  const W = 760; const H = 300; const L = 70; const R = 12; const T = 12; const mid = 205; const B = 280;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': labels.title });
  if (!curve || curve.length < 2) return svg;
  const values = curve.map(([, v]) => Number(v));
  let peak = Number(initial) || values[0];
  const dd = values.map((v) => { peak = Math.max(peak, v); return peak ? (v / peak - 1) * 100 : 0; });
  const lo = Math.min(...values, Number(initial)); const hi = Math.max(...values, Number(initial));
  const ddLo = Math.min(...dd, -0.01);
  const x = (i) => L + ((W - L - R) * i) / (values.length - 1);
  const y = (v) => T + (mid - 15 - T) * (1 - (v - lo) / (hi - lo || 1));
  const yd = (v) => mid + (B - mid) * (v / ddLo);
  // grid and labels
  for (const v of [lo, (lo + hi) / 2, hi]) {
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid-line' }));
    svg.append(s('text', { x: L - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, Math.round(v).toLocaleString('en-US')));
  }
  svg.append(s('line', { x1: L, x2: W - R, y1: y(Number(initial)), y2: y(Number(initial)), class: 'base-line' }));
  const line = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const rising = values[values.length - 1] >= Number(initial);
  svg.append(s('polyline', { points: line, class: `equity ${rising ? 'up-stroke' : 'down-stroke'}` }));
  const area = `${L},${mid} ${dd.map((v, i) => `${x(i).toFixed(1)},${yd(v).toFixed(1)}`).join(' ')} ${W - R},${mid}`;
  svg.append(s('polygon', { points: area, class: 'drawdown' }));
  svg.append(s('line', { x1: L, x2: W - R, y1: mid, y2: mid, class: 'grid-line' }));
  svg.append(s('text', { x: L - 6, y: yd(ddLo) + 4, class: 'axis', 'text-anchor': 'end' }, `${ddLo.toFixed(Math.abs(ddLo) < 1 ? 2 : 1)}%`));
  svg.append(s('text', { x: L - 6, y: mid + 4, class: 'axis', 'text-anchor': 'end' }, '0%'));
  const day = (i) => String(curve[i][0]).slice(0, 10);
  svg.append(s('text', { x: L, y: H - 4, class: 'axis' }, day(0)));
  svg.append(s('text', { x: W - R, y: H - 4, class: 'axis', 'text-anchor': 'end' }, day(curve.length - 1)));
  return svg;
}
