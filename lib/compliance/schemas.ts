// Reports at the boundaries: what a user submits, and what the list, the page and the API show.
import { z } from "zod";
import { ZPeriodInput } from "./period";
import { ZReportContent, ZReportSummary } from "./report-content";

/** POST /api/v1/reports and the page's form: a period, or the id of a report to regenerate (same period). */
export const ZRequestReportInput = z.union([
  z.object({ regenerate: z.string().uuid("Name the report to regenerate by its id.") }).strict(),
  ZPeriodInput,
]);

export const REPORT_STATUSES = ["queued", "running", "completed", "failed"] as const;

export const ZReportListItem = z.object({
  id: z.string(),
  status: z.enum(REPORT_STATUSES),
  period: z.object({ start: z.date(), end: z.date(), label: z.string() }),
  generatedBy: z.object({ id: z.string(), name: z.string(), role: z.string() }),
  regeneratedFromId: z.string().nullable(),
  createdAt: z.date(),
  finishedAt: z.date().nullable(),
  progress: z.object({ done: z.number().int(), total: z.number().int(), step: z.string().nullable() }),
  attempts: z.number().int(),
  failureReason: z.string().nullable(),
  summary: ZReportSummary.nullable(),
  contentSha256: z.string().nullable(),
  checkpoint: z.object({ position: z.string(), hash: z.string(), keyId: z.string(), createdAt: z.date() }).nullable(),
});
export type TReportListItem = z.infer<typeof ZReportListItem>;

export const ZReportDetail = ZReportListItem.extend({ content: ZReportContent.nullable() });
export type TReportDetail = z.infer<typeof ZReportDetail>;

export const EXPORT_FORMATS = ["json", "csv", "oscal", "html"] as const;
export type TExportFormat = (typeof EXPORT_FORMATS)[number];
export const ZExportFormat = z.enum(EXPORT_FORMATS, { error: `Choose a format: ${EXPORT_FORMATS.join(", ")}.` });
