import type { Metadata } from "next";
import Link from "next/link";
import { AutoRefresh } from "@/components/servers/auto-refresh";
import { GenerateReportForm } from "@/components/reports/generate-report-form";
import { ReportStatusBadge } from "@/components/reports/status-badge";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { Badge, Table, Td, Th } from "@/components/ui/table";
import { actorCan } from "@/lib/auth/assert-can";
import { requirePageActor } from "@/lib/auth/current-actor";
import { searchCsf } from "@/lib/compliance/catalog/csf-catalog";
import { listReports } from "@/lib/compliance/list-reports";
import { recentQuarters } from "@/lib/compliance/period";

export const metadata: Metadata = { title: "Reports" };

const fmt = (d: Date) => d.toISOString().replace("T", " ").slice(0, 16);

// GET /reports?csf=<id or words> — the reports (newest first), a form to generate one, and a
// lookup in NIST's CSF 2.0 catalog that also finds 2.0 successors of withdrawn 1.1 ids.
export default async function ReportsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const actor = await requirePageActor("reports.read");
  const query = await searchParams;
  const csf = typeof query.csf === "string" ? query.csf.slice(0, 100) : "";
  const reports = await listReports({ actor });
  const busy = reports.some((r) => r.status === "queued" || r.status === "running");
  const hits = csf ? searchCsf(csf) : [];
  return (
    <>
      <PageHeader
        title="Compliance reports"
        description="Reports for a period, computed from the handle inventory and the audit trail, mapped to NIST CSF 2.0 and pinned to a signed audit checkpoint. A generated report never changes; regenerating makes a new one."
      />
      {busy ? <AutoRefresh seconds={2} /> : null}
      <div className="mb-6 grid gap-6 lg:grid-cols-[1fr_22rem]">
        {actorCan(actor, "reports.generate") ? <GenerateReportForm quarters={recentQuarters(new Date())} /> : <p className="text-sm text-fg-muted">Your role can read reports; auditors and admins generate them.</p>}
        <form method="get" className="space-y-2 rounded-card border border-border bg-surface p-4" aria-labelledby="csf-lookup-title" role="search">
          <h2 id="csf-lookup-title" className="font-semibold">
            Look up a CSF id
          </h2>
          <label htmlFor="csf" className="block text-sm text-fg-muted">
            A CSF 2.0 or 1.1 id (e.g. PR.AC-4) or words of an outcome
          </label>
          <div className="flex gap-2">
            <input id="csf" name="csf" defaultValue={csf} className="block w-full rounded-control border border-border bg-surface px-3 py-2 text-sm" />
            <button type="submit" className="h-9 rounded-control border border-border px-3 text-sm font-medium hover:bg-surface-muted">
              Find
            </button>
          </div>
          {csf ? (
            hits.length ? (
              <ul className="space-y-2 text-sm" aria-label="CSF matches">
                {hits.map((h) => (
                  <li key={`${h.via}-${h.item.id}`}>
                    <span className="font-mono font-medium">{h.item.id}</span> {h.item.withdrawn ? <Badge tone="warning">withdrawn in 2.0</Badge> : null}
                    {h.via === "crosswalk" ? (
                      <span className="text-fg-muted"> — CSF 1.1 {h.from!.id} {h.from!.rel === "moved_to" ? "moved to" : "incorporated into"} this 2.0 subcategory</span>
                    ) : null}
                    <p className="text-fg-muted">{h.item.statement ?? h.item.title}</p>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="text-sm text-fg-muted">Nothing in the CSF 2.0 catalog matches “{csf}”.</p>
            )
          ) : null}
        </form>
      </div>
      {reports.length === 0 ? (
        <EmptyState title="No reports generated yet">Generated reports are listed here with who generated them and the audit checkpoint they were computed from.</EmptyState>
      ) : (
        <Table label="Reports">
          <thead>
            <tr>
              <Th>Period (UTC)</Th>
              <Th>Status</Th>
              <Th>Results</Th>
              <Th>Requested by</Th>
              <Th>Requested</Th>
              <Th>Checkpoint</Th>
            </tr>
          </thead>
          <tbody>
            {reports.map((r) => (
              <tr key={r.id}>
                <Td>
                  <Link href={`/reports/${r.id}`} className="font-medium text-accent underline-offset-4 hover:underline">
                    {r.period.label}
                  </Link>
                  <div className="text-xs text-fg-muted">
                    {fmt(r.period.start)} – {fmt(r.period.end)}
                  </div>
                </Td>
                <Td>
                  <ReportStatusBadge status={r.status} />
                  {r.status === "running" && r.progress.total ? <div className="text-xs text-fg-muted">{Math.round((100 * r.progress.done) / r.progress.total)} %</div> : null}
                  {r.status === "failed" ? <div className="max-w-xs text-xs text-danger">{r.failureReason}</div> : null}
                </Td>
                <Td className="text-xs">
                  {r.summary ? `${r.summary.pass} passed · ${r.summary.fail} failed · ${r.summary.partial} partial · ${r.summary.notMeasurable} not measurable` : "—"}
                </Td>
                <Td>
                  {r.generatedBy.name} <span className="text-xs text-fg-muted">({r.generatedBy.role})</span>
                  {r.regeneratedFromId ? <div className="text-xs text-fg-muted">regenerated</div> : null}
                </Td>
                <Td className="whitespace-nowrap text-xs">{fmt(r.createdAt)}</Td>
                <Td className="font-mono text-xs">{r.checkpoint ? `#${r.checkpoint.position}` : "—"}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}
