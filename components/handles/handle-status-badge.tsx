import { Badge } from "@/components/ui/table";

const STATUS_TONE = { working: "accent", input_required: "warning", completed: "success", failed: "danger", cancelled: "neutral", expired_upstream: "neutral" } as const;

export const statusLabel = (status: string) => status.replace("_", " ");

/** The task's status upstream, as last seen by Tether. */
export function HandleStatusBadge({ status }: { status: keyof typeof STATUS_TONE }) {
  return <Badge tone={STATUS_TONE[status]}>{statusLabel(status)}</Badge>;
}

const LIFECYCLE_TONE = { live: "success", terminal: "neutral", revoked: "danger", expired: "neutral" } as const;
const LIFECYCLE_LABEL = { live: "live", terminal: "task ended", revoked: "revoked", expired: "expired" } as const;

/** Whether the gateway still honours the handle, in one word. */
export function HandleLifecycleBadge({ lifecycle }: { lifecycle: keyof typeof LIFECYCLE_TONE }) {
  return <Badge tone={LIFECYCLE_TONE[lifecycle]}>{LIFECYCLE_LABEL[lifecycle]}</Badge>;
}

const CANCEL_TONE = { none: "neutral", requested: "accent", confirmed: "success", already_terminal: "neutral", not_supported: "warning", unreachable: "danger" } as const;
const CANCEL_LABEL = {
  none: "not requested",
  requested: "requested",
  confirmed: "confirmed",
  already_terminal: "already ended",
  not_supported: "not supported upstream",
  unreachable: "upstream unreachable",
} as const;

/** Where a cancel stands: requested → confirmed / already ended / not supported / unreachable (retried). */
export function HandleCancelBadge({ state }: { state: keyof typeof CANCEL_TONE }) {
  return <Badge tone={CANCEL_TONE[state]}>{CANCEL_LABEL[state]}</Badge>;
}
