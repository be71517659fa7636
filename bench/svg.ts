// A small line-chart writer: panels side by side, log or linear axes, a line per series, horizontal reference lines,
// a legend under each panel. Plain SVG text, no dependency.

export interface Series { label: string; color: string; dash?: string; points: [number, number][] }
export interface Panel { title: string; xLabel: string; yLabel: string; xLog: boolean; yLog: boolean; series: Series[]; hlines?: { label: string; y: number; color: string }[] }

const W = 420;
const H = 300;
const M = { left: 64, right: 16, top: 34, bottom: 44 };
const LEGEND_ROW = 16;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const short = (v: number) => {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
};

/** Tick values: 1-2-5 per decade on a log axis, about 5 round steps on a linear one. */
function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const m of [1, 2, 5]) out.push(m * 10 ** e);
    const inRange = out.filter((v) => v >= lo * 0.999 && v <= hi * 1.001);
    return inRange.length > 8 ? inRange.filter((v) => Math.log10(v) % 1 === 0) : inRange;
  }
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 5 || 1));
  const k = [1, 2, 5, 10].find((m) => (hi - lo) / (m * step) <= 6) ?? 10;
  const out: number[] = [];
  for (let v = Math.ceil(lo / (k * step)) * k * step; v <= hi; v += k * step) out.push(v);
  return out;
}

function panel(p: Panel, x0: number): string {
  const pts = p.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!p.xLog || x > 0) && (!p.yLog || y > 0));
  const ys = [...pts.map(([, y]) => y), ...(p.hlines ?? []).map((h) => h.y).filter((y) => Number.isFinite(y) && y > 0)];
  const xs = pts.map(([x]) => x);
  if (xs.length === 0) return `<text x="${x0 + W / 2}" y="${H / 2}" text-anchor="middle">${esc(p.title)}: no data</text>`;
  let [xlo, xhi] = [Math.min(...xs), Math.max(...xs)];
  let [ylo, yhi] = [Math.min(...ys), Math.max(...ys)];
  if (p.xLog) [xlo, xhi] = [xlo / 1.3, xhi * 1.3];
  else [xlo, xhi] = [Math.min(0, xlo), xhi * 1.05 || 1];
  if (p.yLog) [ylo, yhi] = [10 ** Math.floor(Math.log10(ylo)), 10 ** Math.ceil(Math.log10(yhi))];
  else [ylo, yhi] = [0, yhi * 1.1 || 1];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => x0 + M.left + (p.xLog ? (Math.log10(x) - Math.log10(xlo)) / (Math.log10(xhi) - Math.log10(xlo)) : (x - xlo) / (xhi - xlo)) * pw;
  const sy = (y: number) => M.top + ph - (p.yLog ? (Math.log10(y) - Math.log10(ylo)) / (Math.log10(yhi) - Math.log10(ylo)) : (y - ylo) / (yhi - ylo)) * ph;
  const out: string[] = [];
  out.push(`<text x="${x0 + M.left + pw / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<rect x="${x0 + M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const t of ticks(xlo, xhi, p.xLog)) {
    out.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${M.top}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${sx(t)}" y="${M.top + ph + 14}" text-anchor="middle" font-size="10">${short(t)}</text>`);
  }
  for (const t of ticks(ylo, yhi, p.yLog)) {
    out.push(`<line x1="${x0 + M.left}" x2="${x0 + M.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`);
    out.push(`<text x="${x0 + M.left - 4}" y="${sy(t) + 3}" text-anchor="end" font-size="10">${short(t)}</text>`);
  }
  out.push(`<text x="${x0 + M.left + pw / 2}" y="${H - 10}" text-anchor="middle" font-size="11">${esc(p.xLabel)}</text>`);
  out.push(`<text transform="translate(${x0 + 14} ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(p.yLabel)}</text>`);
  for (const h of p.hlines ?? []) {
    if (!Number.isFinite(h.y) || (p.yLog && h.y <= 0)) continue;
    out.push(`<line x1="${x0 + M.left}" x2="${x0 + M.left + pw}" y1="${sy(h.y)}" y2="${sy(h.y)}" stroke="${h.color}" stroke-dasharray="6 3" stroke-width="1.5"/>`);
  }
  for (const s of p.series) {
    const ok = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!p.xLog || x > 0) && (!p.yLog || y > 0)).sort((a, b) => a[0] - b[0]);
    if (ok.length === 0) continue;
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dash === undefined ? '' : ` stroke-dasharray="${s.dash}"`} points="${ok.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of ok) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
  }
  // Legend under the panel.
  const entries = [...p.series.filter((s) => s.points.length > 0).map((s) => ({ label: s.label, color: s.color, dash: s.dash })), ...(p.hlines ?? []).filter((h) => Number.isFinite(h.y)).map((h) => ({ label: h.label, color: h.color, dash: '6 3' }))];
  entries.forEach((e, i) => {
    const y = H + 6 + i * LEGEND_ROW;
    out.push(`<line x1="${x0 + M.left}" x2="${x0 + M.left + 22}" y1="${y}" y2="${y}" stroke="${e.color}" stroke-width="2"${e.dash === undefined ? '' : ` stroke-dasharray="${e.dash}"`}/>`);
    out.push(`<text x="${x0 + M.left + 28}" y="${y + 4}" font-size="11">${esc(e.label)}</text>`);
  });
  return out.join('\n');
}

export function renderSvg(title: string, subtitle: string, panels: Panel[]): string {
  const legendRows = Math.max(...panels.map((p) => p.series.length + (p.hlines?.length ?? 0)));
  const width = W * panels.length;
  const height = 40 + H + 14 + legendRows * LEGEND_ROW;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="18" font-weight="bold" font-size="14">${esc(title)}</text>`,
    `<text x="10" y="34" font-size="11" fill="#555">${esc(subtitle)}</text>`,
    `<g transform="translate(0 40)">`,
    ...panels.map((p, i) => panel(p, i * W)),
    '</g>',
    '</svg>',
    '',
  ].join('\n');
}
