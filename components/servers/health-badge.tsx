import { Badge } from "@/components/ui/table";
import type { TServerHealth } from "@/lib/servers/schemas";

const TONE = { unknown: "neutral", up: "success", degraded: "warning", down: "danger" } as const;
const LABEL = { unknown: "not checked yet", up: "up", degraded: "degraded", down: "down" } as const;

/** A server's health; a disabled server is not checked, so it shows as disabled instead. */
export function HealthBadge({ status, enabled }: { status: TServerHealth; enabled: boolean }) {
  if (!enabled) return <Badge tone="neutral">disabled</Badge>;
  return <Badge tone={TONE[status]}>{LABEL[status]}</Badge>;
}
