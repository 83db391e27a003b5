import type { Metadata } from "next";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { requirePageActor } from "@/lib/auth/current-actor";

export const metadata: Metadata = { title: "Reports" };

export default async function ReportsPage() {
  await requirePageActor("reports.read");
  return (
    <>
      <PageHeader title="Compliance reports" description="Reports for a period, computed from the handle inventory and the audit trail and mapped to NIST CSF 2.0." />
      <EmptyState title="No reports generated yet">Generated reports are listed here with who generated them and the audit checkpoint they were computed from.</EmptyState>
    </>
  );
}
