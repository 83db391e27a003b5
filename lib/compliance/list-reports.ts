import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import type { TReportListItem } from "./schemas";
import { REPORT_LIST_SELECT, toReportListItem } from "./to-report-dto";

/** The reports, newest first, with who asked for each, its progress or outcome. */
export async function listReports(input: { actor: TActor; limit?: number }): Promise<TReportListItem[]> {
  assertCan(input.actor, "reports.read");
  const rows = await getPrisma().complianceReport.findMany({
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: Math.min(Math.max(input.limit ?? 50, 1), 200),
    select: REPORT_LIST_SELECT,
  });
  return rows.map(toReportListItem);
}
