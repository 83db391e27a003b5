import { Badge, Table, Td, Th } from "@/components/ui/table";
import { formatTimestamp } from "@/lib/format";
import type { TTimelineEventDto } from "@/lib/handles/handle-detail-schemas";

const DENIAL_CAUSES: Record<string, string> = {
  unknown: "unknown token",
  revoked: "revoked",
  expired: "expired",
  principal_mismatch: "presented by another principal",
  session_mismatch: "presented in another session",
  audience_mismatch: "presented at another server",
  credential_mismatch: "presented with another API key",
  wire_mismatch: "presented on the other task wire",
  policy_invalidated: "issued under a policy no longer honoured",
  operation_not_allowed: "operation not allowed by the policy",
  rate_limited: "rate limited",
};

const OUTCOMES: Record<string, string> = {
  confirmed: "confirmed by the upstream",
  already_terminal: "not needed: the task had already ended",
  not_supported: "not supported by the upstream",
  unreachable: "failed: upstream unreachable",
};

const SOURCES: Record<string, string> = { gateway: "seen by the gateway", poller: "seen by the status sync", cancel: "answer to Tether's cancel" };

function ms(value: unknown): string {
  if (typeof value !== "number") return "—";
  if (value % 3_600_000 === 0) return `${value / 3_600_000} h`;
  if (value % 60_000 === 0) return `${value / 60_000} min`;
  return value >= 1000 ? `${Math.round(value / 100) / 10} s` : `${value} ms`;
}

const str = (v: unknown) => (typeof v === "string" ? v : v === null || v === undefined ? "" : JSON.stringify(v));

/** One event in words: what happened, and the details that matter for it. */
export function describeTimelineEvent(e: Pick<TTimelineEventDto, "action" | "payload">): { title: string; detail: string | null } {
  const p = e.payload;
  switch (e.action) {
    case "handle.issued":
      return {
        title: "Issued",
        detail: `${str(p.toolName)} · TTL ${ms(p.effectiveTtlMs)} (requested ${ms(p.requestedTtlMs)}, upstream ${ms(p.upstreamTtlMs)}) · policy v${str(p.policyVersion)}`,
      };
    case "handle.status_changed":
      return {
        title: `Status ${str(p.from).replace("_", " ")} → ${str(p.to).replace("_", " ")}`,
        detail: [p.statusMessage ? `“${str(p.statusMessage)}”` : null, SOURCES[str(p.source)] ?? null].filter(Boolean).join(" · ") || null,
      };
    case "handle.result_fetched":
      return { title: "Result fetched", detail: `status ${str(p.status).replace("_", " ")}` };
    case "handle.polled":
      return { title: `Polled (${str(p.operation)})`, detail: `status ${str(p.status).replace("_", " ")}` };
    case "handle.denied":
      return { title: `Use refused: ${DENIAL_CAUSES[str(p.cause)] ?? str(p.cause)}`, detail: str(p.operation) || null };
    case "handle.cancel_requested":
      return { title: "Cancel requested", detail: p.via === "console" ? "from the console or the REST API" : "by the agent (tasks/cancel)" };
    case "handle.cancel_outcome": {
      const retry =
        p.outcome === "unreachable" && p.via === "console"
          ? typeof p.nextAttemptAt === "string"
            ? ` · retry at ${formatTimestamp(new Date(p.nextAttemptAt))}`
            : " · no more retries"
          : "";
      return { title: `Cancel ${OUTCOMES[str(p.outcome)] ?? str(p.outcome)}`, detail: `attempt ${str(p.attempt)}${retry}` };
    }
    case "handle.revoked":
      return { title: "Revoked", detail: `trigger: ${str(p.trigger).replace("_", " ")}` };
    case "handle.expired":
      return { title: "Expired", detail: null };
    case "handle.upstream_violation":
      return { title: `Upstream reported ${str(p.to)} after ${str(p.from)} (ignored)`, detail: null };
    case "handle.ttl_clamped":
      return { title: "Lifetime shortened by a policy change", detail: `expiry ${formatTimestamp(new Date(str(p.from)))} → ${formatTimestamp(new Date(str(p.to)))}` };
    default:
      return { title: e.action, detail: null };
  }
}

function actorLabel(actor: TTimelineEventDto["actor"]): string {
  if (actor.type === "system") return "Tether";
  return actor.role ? `${actor.name} (${actor.type === "service" ? "agent, " : ""}${actor.role})` : actor.name;
}

/** The handle's audit events, oldest first. */
export function HandleTimeline({ events }: { events: TTimelineEventDto[] }) {
  return (
    <Table label="Timeline">
      <thead>
        <tr>
          <Th>When (UTC)</Th>
          <Th>Event</Th>
          <Th>Actor</Th>
          <Th>Reason</Th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => {
          const { title, detail } = describeTimelineEvent(e);
          return (
            <tr key={e.id} data-action={e.action}>
              <Td className="whitespace-nowrap text-xs">{formatTimestamp(e.occurredAt)}</Td>
              <Td>
                <span className="font-medium">{title}</span>
                {e.outcome !== "ok" ? (
                  <span className="ml-2">
                    <Badge tone={e.outcome === "denied" ? "warning" : "danger"}>{e.outcome}</Badge>
                  </span>
                ) : null}
                {detail ? <p className="mt-0.5 text-xs text-fg-muted">{detail}</p> : null}
              </Td>
              <Td className="text-sm">{actorLabel(e.actor)}</Td>
              <Td className="text-sm">{e.reason ?? <span className="text-fg-muted">—</span>}</Td>
            </tr>
          );
        })}
      </tbody>
    </Table>
  );
}
