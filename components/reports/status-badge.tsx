import { Badge } from "@/components/ui/table";
import { STATUS_LABELS } from "@/lib/compliance/report-content";

const TONES = { pass: "success", fail: "danger", partial: "warning", not_measurable: "neutral" } as const;

/** A control's or subcategory's status, in words (colour only repeats them). */
export function ControlStatusBadge({ status }: { status: keyof typeof TONES }) {
  return <Badge tone={TONES[status]}>{STATUS_LABELS[status]}</Badge>;
}

const REPORT_TONES = { queued: "neutral", running: "accent", completed: "success", failed: "danger" } as const;
const REPORT_LABELS = { queued: "Queued", running: "Generating", completed: "Generated", failed: "Failed" } as const;

export function ReportStatusBadge({ status }: { status: keyof typeof REPORT_TONES }) {
  return <Badge tone={REPORT_TONES[status]}>{REPORT_LABELS[status]}</Badge>;
}
