import "server-only";
import type { ComplianceReport } from "@/lib/db/generated/client";
import { AppError } from "@/lib/errors";
import { ZReportContent } from "./report-content";
import { ZReportDetail, ZReportListItem, type TReportDetail, type TReportListItem } from "./schemas";

export const reportNotFound = () => new AppError("NOT_FOUND", "No such report.");

type TRow = Omit<ComplianceReport, "content"> & { content?: string | null };

/** The columns a list shows (never the content: it can be large). */
export const REPORT_LIST_SELECT = {
  id: true,
  status: true,
  periodStart: true,
  periodEnd: true,
  periodLabel: true,
  generatedById: true,
  generatedByName: true,
  generatedByRole: true,
  regeneratedFromId: true,
  progressDone: true,
  progressTotal: true,
  progressStep: true,
  attempts: true,
  leaseUntil: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  failureReason: true,
  policyVersion: true,
  checkpointPosition: true,
  checkpointHash: true,
  checkpointSignature: true,
  checkpointKeyId: true,
  checkpointCreatedAt: true,
  summary: true,
  contentSha256: true,
} as const;

export function toReportListItem(row: TRow): TReportListItem {
  return ZReportListItem.parse({
    id: row.id,
    status: row.status,
    period: { start: row.periodStart, end: row.periodEnd, label: row.periodLabel },
    generatedBy: { id: row.generatedById, name: row.generatedByName, role: row.generatedByRole },
    regeneratedFromId: row.regeneratedFromId,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
    progress: { done: row.progressDone, total: row.progressTotal, step: row.progressStep },
    attempts: row.attempts,
    failureReason: row.failureReason,
    summary: row.summary ?? null,
    contentSha256: row.contentSha256,
    checkpoint:
      row.checkpointPosition !== null && row.checkpointHash && row.checkpointKeyId && row.checkpointCreatedAt
        ? { position: row.checkpointPosition.toString(), hash: row.checkpointHash, keyId: row.checkpointKeyId, createdAt: row.checkpointCreatedAt }
        : null,
  });
}

export function toReportDetail(row: TRow): TReportDetail {
  return ZReportDetail.parse({
    ...toReportListItem(row),
    content: row.content ? ZReportContent.parse(JSON.parse(row.content)) : null,
  });
}
