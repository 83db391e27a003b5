// A control's trend over the report period and the periods before it, as a self-contained SVG
// rendered on the server: no script, no web font, no CDN, so it shows the same on screen, in the
// print view and in a PDF. Status is told by marker shape and a label, not by colour alone.
import type { TControlStatus } from "./controls/types";
import type { TReportControl } from "./report-content";

const W = 360;
const H = 150;
const PAD = { left: 48, right: 12, top: 14, bottom: 34 };

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const COLOURS: Record<TControlStatus, string> = { pass: "#15803d", fail: "#b91c1c", partial: "#b45309", not_measurable: "#6b7280" };

export function formatMetricValue(metric: TReportControl["metric"], value: number | null): string {
  if (value === null) return "n/a";
  switch (metric) {
    case "ratio":
      return `${(value * 100).toFixed(value === 1 || value === 0 ? 0 : 1)} %`;
    case "duration_ms":
      return value >= 60_000 ? `${(value / 60_000).toFixed(1)} min` : value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
    case "days":
      return `${value.toFixed(0)} d`;
    default:
      return Number.isInteger(value) ? String(value) : value.toFixed(2);
  }
}

function marker(x: number, y: number, status: TControlStatus): string {
  const c = COLOURS[status];
  switch (status) {
    case "pass":
      return `<circle cx="${x}" cy="${y}" r="4" fill="${c}" stroke="#000" stroke-width="0.6"/>`;
    case "fail":
      return `<path d="M${x - 4} ${y - 4} L${x + 4} ${y + 4} M${x - 4} ${y + 4} L${x + 4} ${y - 4}" stroke="${c}" stroke-width="2.2"/>`;
    case "partial":
      return `<path d="M${x} ${y - 5} L${x + 5} ${y + 4} L${x - 5} ${y + 4} Z" fill="${c}" stroke="#000" stroke-width="0.6"/>`;
    default:
      return `<circle cx="${x}" cy="${y}" r="4" fill="#fff" stroke="${c}" stroke-width="1.4"/>`;
  }
}

const shortDate = (iso: string) => iso.slice(5, 10);

/** The trend chart of one control; `title` is the accessible name. */
export function renderTrendSvg(control: Pick<TReportControl, "id" | "title" | "metric" | "threshold" | "trend">): string {
  const points = control.trend;
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  const target = control.threshold?.target ?? null;
  let lo = 0;
  let hi: number;
  if (control.metric === "ratio") hi = 1;
  else hi = Math.max(1, ...values, target ?? 0) * 1.1;
  if (control.metric === "ratio" && values.length && Math.min(...values) > 0.9) lo = 0.9 * Math.min(1, Math.min(...values)) - 0.0001;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (points.length <= 1 ? plotW / 2 : (i * plotW) / (points.length - 1));
  const y = (v: number) => PAD.top + plotH - ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo || 1)) * plotH;

  const parts: string[] = [];
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#9ca3af" stroke-width="0.8"/>`);
  for (const v of [lo, hi]) {
    parts.push(`<text x="${PAD.left - 4}" y="${y(v) + 3}" font-size="9" text-anchor="end" fill="#111">${esc(formatMetricValue(control.metric, v))}</text>`);
  }
  if (target !== null && target >= lo && target <= hi) {
    parts.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(target)}" y2="${y(target)}" stroke="#111" stroke-width="1" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${PAD.left + plotW - 2}" y="${y(target) - 3}" font-size="8.5" text-anchor="end" fill="#111">threshold ${esc(formatMetricValue(control.metric, target))}</text>`);
  }
  // The line joins consecutive measured points; a period without a value leaves a gap.
  let path = "";
  points.forEach((p, i) => {
    if (p.value === null) return;
    const prev = points[i - 1];
    path += `${prev && prev.value !== null ? "L" : "M"}${x(i).toFixed(1)} ${y(p.value).toFixed(1)} `;
  });
  if (path) parts.push(`<path d="${path.trim()}" fill="none" stroke="#1f2937" stroke-width="1.6"/>`);
  points.forEach((p, i) => {
    const cy = p.value === null ? PAD.top + plotH : y(p.value);
    parts.push(marker(x(i), cy, p.status));
    parts.push(`<text x="${x(i)}" y="${H - PAD.bottom + 12}" font-size="8.5" text-anchor="middle" fill="#111">${esc(shortDate(p.end))}</text>`);
    parts.push(`<text x="${x(i)}" y="${H - PAD.bottom + 23}" font-size="8" text-anchor="middle" fill="#374151">${esc(p.value === null ? "n/a" : formatMetricValue(control.metric, p.value))}</text>`);
  });
  const label = `${control.id} ${control.title}: ${points.map((p) => `${shortDate(p.end)} ${p.value === null ? "not measurable" : formatMetricValue(control.metric, p.value)} (${p.status.replace("_", " ")})`).join("; ")}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(label)}" font-family="ui-sans-serif, system-ui, sans-serif"><title>${esc(label)}</title>${parts.join("")}</svg>`;
}
