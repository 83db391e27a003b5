import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import type { TReportDetail } from "./schemas";
import { reportNotFound, toReportDetail } from "./to-report-dto";

/**
 * One report with its content once generated. Opening a generated report is audited
 * (report.viewed); polling the progress of one still being generated is not (`audit: false`
 * also serves exports, which record report.exported instead).
 */
export async function getReport(input: { actor: TActor; id: string; audit?: boolean }): Promise<TReportDetail> {
  const { actor } = input;
  assertCan(actor, "reports.read");
  const id = z.string().uuid().safeParse(input.id);
  if (!id.success) throw reportNotFound();
  const db = getPrisma();
  const row = await db.complianceReport.findUnique({ where: { id: id.data } });
  if (!row) throw reportNotFound();
  const detail = toReportDetail(row);
  if (detail.status === "completed" && input.audit !== false) {
    await db.$transaction(async (tx) => {
      await recordAuditEvent(tx, { actor, action: "report.viewed", target: { type: "compliance_report", id: row.id }, payload: { reportId: row.id } });
    });
  }
  return detail;
}
