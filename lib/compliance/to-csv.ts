// CSV export: one row per control, with the period, the checkpoint and the content hash on every
// row, so each line stands on its own in a spreadsheet.
import { stringify } from "csv-stringify/sync";
import type { TReportContent } from "./report-content";

export const CSV_COLUMNS = [
  "report_id",
  "period_start",
  "period_end",
  "control_id",
  "title",
  "status",
  "value",
  "unit",
  "threshold_target",
  "threshold_partial",
  "threshold_source",
  "population",
  "violations",
  "reason",
  "csf_2_0",
  "sp800_53r5",
  "owasp_agentic",
  "sample_handles",
  "query_sha256",
  "audit_checkpoint_position",
  "audit_checkpoint_hash",
  "report_content_sha256",
] as const;

export function reportToCsv(content: TReportContent, contentSha256: string): string {
  const rows = content.controls.map((c) => [
    content.reportId,
    content.period.start,
    content.period.end,
    c.id,
    c.title,
    c.status,
    c.value ?? "",
    c.unit ?? "",
    c.threshold?.target ?? "",
    c.threshold?.partial ?? "",
    c.threshold?.source ?? "",
    c.population ?? "",
    c.violations ?? "",
    c.reason ?? "",
    c.csf.join(" "),
    c.sp80053.join(" "),
    c.owasp.join(" "),
    c.sample.map((s) => (s.kind === "handle" ? s.accessor : s.id)).join(" "),
    c.query?.sha256 ?? "",
    content.checkpoint.position,
    content.checkpoint.hash,
    contentSha256,
  ]);
  return stringify([[...CSV_COLUMNS], ...rows], { escape_formulas: true });
}
