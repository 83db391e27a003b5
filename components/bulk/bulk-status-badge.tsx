import { Badge } from "@/components/ui/table";
import { BULK_RESULT_LABELS, BULK_STATUS_LABELS, type TBulkItemResult, type TBulkStatus } from "@/lib/bulk/schemas";

const STATUS_TONE = {
  awaiting_approval: "warning",
  approved: "accent",
  running: "accent",
  completed: "success",
  failed: "danger",
  rejected: "neutral",
  cancelled: "neutral",
} as const satisfies Record<TBulkStatus, string>;

const RESULT_TONE = {
  revoked: "success",
  cancelled: "success",
  already_revoked: "neutral",
  expired: "neutral",
  not_cancellable: "neutral",
  cancel_requested: "accent",
  error: "danger",
  pending: "neutral",
} as const satisfies Record<TBulkItemResult | "pending", string>;

export function BulkStatusBadge({ status }: { status: TBulkStatus }) {
  return <Badge tone={STATUS_TONE[status]}>{BULK_STATUS_LABELS[status]}</Badge>;
}

export function BulkResultBadge({ result }: { result: TBulkItemResult | "pending" }) {
  return <Badge tone={RESULT_TONE[result]}>{BULK_RESULT_LABELS[result]}</Badge>;
}

export const KIND_LABELS = { revoke: "Bulk revoke", cancel: "Bulk cancel" } as const;
