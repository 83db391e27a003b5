// The print-ready HTML export: one self-contained page (inline CSS, server-rendered SVG charts,
// no script) that prints cleanly to PDF from the browser: A4 margins, no page break inside a
// control, status told by words and shapes as well as colour.
import { formatMetricValue, renderTrendSvg } from "./trend-chart-svg";
import { STATUS_LABELS, type TReportContent, type TReportControl } from "./report-content";

const esc = (s: string | number) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 11pt/1.45 ui-sans-serif, system-ui, -apple-system, "Segoe UI", sans-serif; color: #111; margin: 24px auto; max-width: 980px; padding: 0 16px; }
h1 { font-size: 18pt; margin: 0 0 4px; } h2 { font-size: 13.5pt; margin: 22px 0 8px; border-bottom: 1px solid #999; padding-bottom: 3px; }
h3 { font-size: 11.5pt; margin: 0 0 6px; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; }
th, td { border: 1px solid #bbb; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f1f1f1; }
.muted { color: #444; } .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 8.5pt; word-break: break-all; }
.status { font-weight: 600; padding: 0 4px; border: 1px solid currentColor; border-radius: 3px; white-space: nowrap; }
.pass { color: #166534; } .fail { color: #991b1b; } .partial { color: #92400e; } .not_measurable { color: #374151; }
.summary { display: flex; gap: 12px; margin: 10px 0; } .summary div { border: 1px solid #bbb; padding: 6px 10px; min-width: 120px; }
.summary b { font-size: 16pt; display: block; }
.control { border: 1px solid #bbb; padding: 10px 12px; margin: 12px 0; break-inside: avoid; page-break-inside: avoid; }
.grid { display: grid; grid-template-columns: 1fr 370px; gap: 12px; }
pre { white-space: pre-wrap; font-size: 7.5pt; background: #f7f7f7; border: 1px solid #ddd; padding: 6px; margin: 6px 0 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 6px 0; font-size: 9.5pt; } dt { font-weight: 600; }
@page { size: A4; margin: 14mm 12mm; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; text-decoration: none; } details > summary { display: none; } details { display: block; } pre { font-size: 6.5pt; } }
`;

function statusBadge(status: TReportControl["status"]): string {
  return `<span class="status ${status}">${esc(STATUS_LABELS[status])}</span>`;
}

function controlSection(c: TReportControl, baseUrl: string): string {
  const threshold = c.threshold
    ? `${esc(formatMetricValue(c.metric, c.threshold.target))}${c.threshold.partial !== null ? ` (partial from ${esc(formatMetricValue(c.metric, c.threshold.partial))})` : ""} — ${c.threshold.source === "policy" ? "from the policy" : "default"}${c.threshold.note ? `; ${esc(c.threshold.note)}` : ""}`
    : "—";
  const sample = c.sample.length
    ? c.sample
        .map((s) => (s.kind === "handle" ? `<a class="mono" href="${esc(`${baseUrl}/handles/${encodeURIComponent(s.accessor)}`)}">${esc(s.accessor)}</a>` : `<span class="mono">${esc(s.label)}</span>`))
        .join(", ")
    : "none";
  const details = Object.entries(c.details)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v === null ? "—" : String(v))}</dd>`)
    .join("");
  return `<section class="control" id="${esc(c.id)}">
<h3>${esc(c.id)} ${esc(c.title)} ${statusBadge(c.status)}</h3>
<div class="grid"><div>
<p>${esc(c.definition)}</p>
${c.reason ? `<p><b>${c.status === "not_measurable" ? "Not measurable" : "Note"}:</b> ${esc(c.reason)}</p>` : ""}
<dl>
<dt>Measured value</dt><dd>${esc(formatMetricValue(c.metric, c.value))}</dd>
<dt>Threshold</dt><dd>${threshold}</dd>
<dt>Population</dt><dd>${esc(c.population ?? "—")}</dd>
<dt>Violations</dt><dd>${esc(c.violations ?? "—")}</dd>
${details}
<dt>CSF 2.0</dt><dd>${esc(c.csf.join(", "))}</dd>
<dt>SP 800-53r5</dt><dd>${esc(c.sp80053.join(", "))}</dd>
<dt>OWASP Agentic</dt><dd>${esc(c.owasp.join(", ") || "—")}</dd>
<dt>Offending sample</dt><dd>${sample}</dd>
</dl></div>
<div>${c.trend.length ? renderTrendSvg(c) : '<p class="muted">No trend: not measurable.</p>'}</div></div>
${c.query ? `<details><summary>Metric query (SHA-256 ${esc(c.query.sha256.slice(0, 16))}…)</summary><pre>${esc(c.query.sql)}\n\n-- parameters: ${esc(JSON.stringify(c.query.parameters))}</pre></details>` : ""}
</section>`;
}

export function renderReportHtml(content: TReportContent, contentSha256: string, options: { baseUrl?: string } = {}): string {
  const baseUrl = (options.baseUrl ?? "").replace(/\/$/, "");
  const s = content.summary;
  const subRows = content.subcategories
    .map((sc) => `<tr><td class="mono">${esc(sc.id)}</td><td>${esc(sc.statement ?? "")}</td><td>${statusBadge(sc.status)}</td><td>${sc.controls.map((id) => `<a href="#${esc(id)}">${esc(id)}</a>`).join(", ")}</td></tr>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(content.title)} — ${esc(content.period.label)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head>
<body>
<h1>${esc(content.title)}</h1>
<p class="muted">${esc(content.period.label)}: ${esc(content.period.start)} – ${esc(content.period.end)} (UTC, end exclusive). Requested by ${esc(content.requestedBy.name)} (${esc(content.requestedBy.role)}); generated ${esc(content.generatedAt)}. Policy version ${esc(content.policy.version ?? "—")}.</p>
<div class="summary">
<div class="pass"><b>${s.pass}</b>passed</div><div class="fail"><b>${s.fail}</b>failed</div><div class="partial"><b>${s.partial}</b>partial</div><div class="not_measurable"><b>${s.notMeasurable}</b>not measurable</div>
</div>
<h2>Evidence</h2>
<dl>
<dt>Report id</dt><dd class="mono">${esc(content.reportId)}</dd>
<dt>Content SHA-256</dt><dd class="mono">${esc(contentSha256)} (RFC 8785 canonical JSON of the report)</dd>
<dt>Audit checkpoint</dt><dd class="mono">position ${esc(content.checkpoint.position)}, hash ${esc(content.checkpoint.hash)}, created ${esc(content.checkpoint.createdAt)}, key ${esc(content.checkpoint.keyId)}</dd>
<dt>Checkpoint signature</dt><dd class="mono">${esc(content.checkpoint.signature)} (Ed25519; verify with npm run audit:verify or npx tether-audit-verify)</dd>
<dt>Catalog</dt><dd>${esc(content.catalog.title)}, version ${esc(content.catalog.version)} (OSCAL ${esc(content.catalog.oscalVersion)}), SHA-256 <span class="mono">${esc(content.catalog.sha256)}</span>. ${esc(content.catalog.citation)}</dd>
</dl>
<h2>CSF 2.0 subcategories</h2>
<table><thead><tr><th>Subcategory</th><th>Outcome (NIST's text)</th><th>Status</th><th>Controls</th></tr></thead><tbody>
${subRows}
</tbody></table>
<h2>Controls</h2>
${content.controls.map((c) => controlSection(c, baseUrl)).join("\n")}
</body></html>`;
}
