import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ControlStatusBadge, ReportStatusBadge } from "@/components/reports/status-badge";
import { RegenerateButton } from "@/components/reports/regenerate-button";
import { TrendChart } from "@/components/reports/trend-chart";
import { AutoRefresh } from "@/components/servers/auto-refresh";
import { Alert } from "@/components/ui/alert";
import { PageHeader } from "@/components/ui/page-header";
import { Table, Td, Th } from "@/components/ui/table";
import { actorCan } from "@/lib/auth/assert-can";
import { requirePageActor } from "@/lib/auth/current-actor";
import { getReport } from "@/lib/compliance/get-report";
import type { TReportContent, TReportControl } from "@/lib/compliance/report-content";
import { formatMetricValue } from "@/lib/compliance/trend-chart-svg";
import { isAppError } from "@/lib/errors";

export const metadata: Metadata = { title: "Report" };

const EXPORTS = [
  { format: "json", label: "JSON" },
  { format: "csv", label: "CSV" },
  { format: "oscal", label: "OSCAL" },
] as const;

const LINK = "inline-flex h-9 items-center rounded-control border border-border bg-surface px-3.5 text-sm font-medium text-fg hover:bg-surface-muted";

// GET /reports/:id — one report: while it is generated, its progress; once generated, the summary,
// one row per CSF subcategory, every control with its evidence and trend, and the exports. Opening
// a generated report is audited (report.viewed).
export default async function ReportPage({ params }: { params: Promise<{ id: string }> }) {
  const actor = await requirePageActor("reports.read");
  const { id } = await params;
  let report;
  try {
    report = await getReport({ actor, id });
  } catch (err) {
    if (isAppError(err) && err.code === "NOT_FOUND") notFound();
    throw err;
  }
  const content = report.content;
  const canGenerate = actorCan(actor, "reports.generate");
  return (
    <>
      <PageHeader
        title={`Compliance report: ${report.period.label}`}
        description={`${report.period.start.toISOString()} – ${report.period.end.toISOString()} (UTC, end excluded). Requested by ${report.generatedBy.name} (${report.generatedBy.role}) on ${report.createdAt.toISOString().slice(0, 16).replace("T", " ")}.`}
        actions={
          <div className="flex flex-wrap items-center gap-2">
            {content ? (
              <>
                {EXPORTS.map((e) => (
                  <a key={e.format} href={`/api/v1/reports/${report.id}?format=${e.format}`} download className={LINK}>
                    Download {e.label}
                  </a>
                ))}
                <a href={`/api/v1/reports/${report.id}?format=html`} target="_blank" rel="noopener" className={LINK}>
                  Print view
                </a>
              </>
            ) : null}
            {canGenerate && (report.status === "completed" || report.status === "failed") ? <RegenerateButton reportId={report.id} /> : null}
          </div>
        }
      />
      <p className="mb-4 text-sm">
        <Link href="/reports" className="text-accent underline-offset-4 hover:underline">
          ← All reports
        </Link>
      </p>
      {report.status === "queued" || report.status === "running" ? (
        <>
          <AutoRefresh seconds={2} />
          <div role="status" className="rounded-card border border-border bg-surface p-4">
            <div className="flex items-center gap-2">
              <ReportStatusBadge status={report.status} />
              <span className="text-sm">{report.progress.step ?? "Waiting for a worker"}</span>
            </div>
            <progress className="mt-3 w-full" max={Math.max(report.progress.total, 1)} value={report.progress.done} aria-label="Progress" />
            <p className="mt-1 text-xs text-fg-muted">
              {report.progress.total ? `${report.progress.done} of ${report.progress.total} measurements` : "Starting"} · attempt {Math.max(report.attempts, 1)}
            </p>
          </div>
        </>
      ) : null}
      {report.status === "failed" ? (
        <Alert tone="danger">
          <p className="font-medium">This report could not be generated, and nothing of it was kept.</p>
          <p>{report.failureReason}</p>
        </Alert>
      ) : null}
      {content && report.contentSha256 ? <ReportBody content={content} sha256={report.contentSha256} /> : null}
    </>
  );
}

function ReportBody({ content, sha256 }: { content: TReportContent; sha256: string }) {
  const s = content.summary;
  const cards = [
    { label: "Passed", n: s.pass, tone: "text-success" },
    { label: "Failed", n: s.fail, tone: "text-danger" },
    { label: "Partial", n: s.partial, tone: "text-warning" },
    { label: "Not measurable", n: s.notMeasurable, tone: "text-fg-muted" },
  ];
  return (
    <div className="space-y-8">
      <section aria-labelledby="summary-title">
        <h2 id="summary-title" className="sr-only">
          Summary
        </h2>
        <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
          {cards.map((c) => (
            <div key={c.label} className="rounded-card border border-border bg-surface p-3">
              <dt className="text-xs font-medium uppercase tracking-wide text-fg-muted">{c.label}</dt>
              <dd className={`text-2xl font-semibold ${c.tone}`}>{c.n}</dd>
            </div>
          ))}
        </dl>
      </section>

      <section aria-labelledby="evidence-title" className="rounded-card border border-border bg-surface p-4 text-sm">
        <h2 id="evidence-title" className="mb-2 font-semibold">
          Evidence
        </h2>
        <dl className="grid gap-x-4 gap-y-1 sm:grid-cols-[max-content_1fr]">
          <dt className="font-medium">Content SHA-256</dt>
          <dd className="break-all font-mono text-xs">{sha256}</dd>
          <dt className="font-medium">Audit checkpoint</dt>
          <dd className="break-all font-mono text-xs">
            position {content.checkpoint.position}, hash {content.checkpoint.hash}, signed {content.checkpoint.createdAt} by key {content.checkpoint.keyId}
          </dd>
          <dt className="font-medium">Signature (Ed25519)</dt>
          <dd className="break-all font-mono text-xs">{content.checkpoint.signature}</dd>
          <dt className="font-medium">Policy version</dt>
          <dd>{content.policy.version ?? "—"} (thresholds in force at the period end)</dd>
          <dt className="font-medium">Catalog</dt>
          <dd>
            {content.catalog.title} {content.catalog.version} (OSCAL {content.catalog.oscalVersion})
          </dd>
        </dl>
        <p className="mt-2 text-xs text-fg-muted">
          Every event counted was sealed in the audit chain at or before this checkpoint. Check it with <code>npm run audit:verify</code>, or offline with an audit
          export and <code>npx tether-audit-verify</code>.
        </p>
      </section>

      <section aria-labelledby="subcategories-title">
        <h2 id="subcategories-title" className="mb-2 font-semibold">
          CSF 2.0 subcategories
        </h2>
        <Table label="CSF 2.0 subcategories">
          <thead>
            <tr>
              <Th>Subcategory</Th>
              <Th>Outcome</Th>
              <Th>Status</Th>
              <Th>Controls</Th>
            </tr>
          </thead>
          <tbody>
            {content.subcategories.map((sc) => (
              <tr key={sc.id}>
                <Td className="whitespace-nowrap font-mono text-xs">{sc.id}</Td>
                <Td className="text-xs">{sc.statement}</Td>
                <Td>
                  <ControlStatusBadge status={sc.status} />
                </Td>
                <Td className="whitespace-nowrap text-xs">
                  {sc.controls.map((id, i) => (
                    <span key={id}>
                      {i ? ", " : ""}
                      <a href={`#${id}`} className="text-accent underline-offset-4 hover:underline">
                        {id}
                      </a>
                    </span>
                  ))}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      </section>

      <section aria-labelledby="controls-title" className="space-y-3">
        <h2 id="controls-title" className="font-semibold">
          Controls
        </h2>
        {content.controls.map((c) => (
          <ControlDetails key={c.id} control={c} />
        ))}
      </section>
    </div>
  );
}

function ControlDetails({ control: c }: { control: TReportControl }) {
  const threshold = c.threshold
    ? `${formatMetricValue(c.metric, c.threshold.target)}${c.threshold.partial !== null ? `, partial from ${formatMetricValue(c.metric, c.threshold.partial)}` : ""} (${c.threshold.source === "policy" ? "from the policy" : "default"})`
    : "—";
  return (
    <details id={c.id} className="group rounded-card border border-border bg-surface" aria-label={`${c.id} ${c.title}`}>
      <summary className="flex cursor-pointer flex-wrap items-center gap-3 px-4 py-3">
        <span className="font-mono text-sm font-medium">{c.id}</span>
        <span className="font-medium">{c.title}</span>
        <ControlStatusBadge status={c.status} />
        <span className="ml-auto text-sm text-fg-muted">{c.status === "not_measurable" ? "not measurable" : formatMetricValue(c.metric, c.value)}</span>
      </summary>
      <div className="grid gap-4 border-t border-border px-4 py-3 lg:grid-cols-[1fr_auto]">
        <div className="space-y-2 text-sm">
          <p>{c.definition}</p>
          {c.reason ? (
            <p>
              <span className="font-medium">{c.status === "not_measurable" ? "Not measurable:" : "Note:"}</span> {c.reason.replace(/^vacuous: /, "vacuous — ")}
            </p>
          ) : null}
          <dl className="grid gap-x-4 gap-y-1 sm:grid-cols-[max-content_1fr]">
            <dt className="font-medium">Measured value</dt>
            <dd>{formatMetricValue(c.metric, c.value)}</dd>
            <dt className="font-medium">Threshold</dt>
            <dd>{threshold}</dd>
            <dt className="font-medium">Population</dt>
            <dd>{c.population ?? "—"}</dd>
            <dt className="font-medium">Violations</dt>
            <dd>{c.violations ?? "—"}</dd>
            {Object.entries(c.details).map(([k, v]) => (
              <FragmentRow key={k} label={k} value={v === null ? "—" : String(v)} />
            ))}
            <dt className="font-medium">CSF 2.0</dt>
            <dd>{c.csf.join(", ")}</dd>
            <dt className="font-medium">SP 800-53r5</dt>
            <dd>{c.sp80053.join(", ")}</dd>
            <dt className="font-medium">OWASP Agentic</dt>
            <dd>{c.owasp.join(", ") || "—"}</dd>
          </dl>
          <div>
            <p className="font-medium">Offending handles (sample)</p>
            {c.sample.length ? (
              <ul className="mt-1 flex flex-wrap gap-2" aria-label={`Offending sample of ${c.id}`}>
                {c.sample.map((s) =>
                  s.kind === "handle" ? (
                    <li key={s.accessor}>
                      <Link href={`/handles/${encodeURIComponent(s.accessor)}`} className="font-mono text-xs text-accent underline-offset-4 hover:underline">
                        {s.accessor}
                      </Link>
                    </li>
                  ) : (
                    <li key={s.id} className="font-mono text-xs">
                      principal {s.label}
                    </li>
                  ),
                )}
              </ul>
            ) : (
              <p className="text-fg-muted">None.</p>
            )}
          </div>
          {c.query ? (
            <details>
              <summary className="cursor-pointer text-xs text-fg-muted">Metric query (SHA-256 {c.query.sha256.slice(0, 16)}…)</summary>
              <pre className="mt-1 overflow-x-auto rounded-control bg-surface-muted p-2 text-xs">
                {c.query.sql}
                {`\n\n-- parameters: ${JSON.stringify(c.query.parameters)}`}
              </pre>
            </details>
          ) : null}
        </div>
        <div>
          <p className="mb-1 text-xs font-medium uppercase tracking-wide text-fg-muted">Trend over the previous periods</p>
          <TrendChart control={c} />
        </div>
      </div>
    </details>
  );
}

function FragmentRow({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt className="font-medium">{label}</dt>
      <dd>{value}</dd>
    </>
  );
}
