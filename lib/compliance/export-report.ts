import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { getReport } from "./get-report";
import { renderReportHtml } from "./render-report-html";
import { ZExportFormat, type TExportFormat } from "./schemas";
import { reportToCsv } from "./to-csv";
import { reportToOscal } from "./to-oscal";

export type TReportExport = { body: string; contentType: string; filename: string; format: TExportFormat; contentSha256: string };

/**
 * A generated report as JSON (its stored canonical content, byte for byte: the SHA-256 in the
 * header is of exactly this body), CSV (one row per control), OSCAL Assessment Results or the
 * print-ready HTML page. Audited as report.exported; a report still being generated is a 409.
 */
export async function exportReport(input: { actor: TActor; id: string; format: unknown; baseUrl: string }): Promise<TReportExport> {
  const { actor } = input;
  assertCan(actor, "reports.read");
  const format = ZExportFormat.safeParse(input.format ?? "json");
  if (!format.success) throw invalidInput(format.error, "Unknown export format.");
  const report = await getReport({ actor, id: input.id, audit: false });
  if (report.status !== "completed" || !report.content || !report.contentSha256) {
    throw new AppError("INVALID_STATE", report.status === "failed" ? `This report failed and has nothing to export: ${report.failureReason ?? ""}` : "This report is still being generated.");
  }
  const { content, contentSha256 } = report;
  const stamp = content.period.end.slice(0, 10);
  const base = `tether-report-${stamp}-${content.reportId.slice(0, 8)}`;
  const reportUrl = `${input.baseUrl}/api/v1/reports/${content.reportId}?format=json`;
  let out: TReportExport;
  switch (format.data) {
    case "json": {
      const row = await getPrisma().complianceReport.findUniqueOrThrow({ where: { id: content.reportId }, select: { content: true } });
      out = { body: row.content!, contentType: "application/json; charset=utf-8", filename: `${base}.json`, format: "json", contentSha256 };
      break;
    }
    case "csv":
      out = { body: reportToCsv(content, contentSha256), contentType: "text/csv; charset=utf-8", filename: `${base}.csv`, format: "csv", contentSha256 };
      break;
    case "oscal":
      out = { body: `${JSON.stringify(reportToOscal(content, contentSha256, { reportUrl }), null, 2)}\n`, contentType: "application/json; charset=utf-8", filename: `${base}-oscal-ar.json`, format: "oscal", contentSha256 };
      break;
    case "html":
      out = { body: renderReportHtml(content, contentSha256, { baseUrl: input.baseUrl }), contentType: "text/html; charset=utf-8", filename: `${base}.html`, format: "html", contentSha256 };
      break;
  }
  await getPrisma().$transaction(async (tx) => {
    await recordAuditEvent(tx, {
      actor,
      action: "report.exported",
      target: { type: "compliance_report", id: content.reportId },
      payload: { reportId: content.reportId, format: out.format, contentSha256 },
    });
  });
  return out;
}
