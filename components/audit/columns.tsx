import { createColumnHelper } from "@tanstack/react-table";
import Link from "next/link";
import { Badge } from "@/components/ui/table";
import type { TAuditEventDto } from "@/lib/audit/schemas";
import { formatTimestamp } from "@/lib/format";
import { eventHref } from "./urls";

export const OUTCOME_TONE = { ok: "success", denied: "warning", error: "danger" } as const;

const col = createColumnHelper<TAuditEventDto>();

/**
 * The audit table's columns. Nothing here sorts or filters: the database does both, and the
 * table runs in manual mode. `listQuery` is the current page's query, so opening an event
 * keeps the list behind the drawer as it was.
 */
export function auditColumns(listQuery: string) {
  return [
    col.accessor("seq", {
      header: "#",
      cell: (c) => (
        <Link
          href={eventHref(listQuery, c.row.original.id)}
          prefetch={false}
          scroll={false}
          className="font-mono text-xs font-medium text-accent underline-offset-4 hover:underline"
          aria-label={`Open event ${c.getValue()} (${c.row.original.action})`}
        >
          {c.getValue()}
        </Link>
      ),
    }),
    col.accessor("occurredAt", {
      header: "Time (UTC)",
      cell: (c) => <span className="whitespace-nowrap text-xs">{formatTimestamp(c.getValue()).replace(" UTC", "")}</span>,
    }),
    col.display({
      id: "actor",
      header: "Actor",
      cell: ({ row: { original: e } }) => (
        <span className="block text-xs">
          {e.actorType}
          {e.actorRole ? <span className="text-fg-muted"> · {e.actorRole}</span> : null}
          {e.actorId && e.actorId !== "system" ? (
            <span className="block max-w-44 truncate font-mono text-fg-muted" title={e.actorId}>
              {e.actorId}
            </span>
          ) : null}
        </span>
      ),
    }),
    col.accessor("action", { header: "Action", cell: (c) => <span className="whitespace-nowrap font-mono text-xs">{c.getValue()}</span> }),
    col.display({
      id: "target",
      header: "Target",
      cell: ({ row: { original: e } }) =>
        e.targetType ? (
          <span className="block text-xs">
            {e.targetType}
            <span className="block max-w-44 truncate font-mono text-fg-muted" title={e.targetId ?? undefined}>
              {e.targetId}
            </span>
          </span>
        ) : (
          <span className="text-fg-muted">—</span>
        ),
    }),
    col.accessor("outcome", { header: "Outcome", cell: (c) => <Badge tone={OUTCOME_TONE[c.getValue()]}>{c.getValue()}</Badge> }),
    col.accessor("reason", {
      header: "Reason",
      cell: (c) => <span className="line-clamp-2 max-w-56 text-xs">{c.getValue() ?? ""}</span>,
    }),
    col.accessor("chain", {
      header: "Chain",
      cell: (c) => {
        const chain = c.getValue();
        return chain ? (
          <span className="font-mono text-xs" title={`Hash ${chain.hash}`}>
            {chain.position}
          </span>
        ) : (
          <span className="text-xs text-fg-muted" title="Not yet linked into the hash chain">
            pending
          </span>
        );
      },
    }),
  ];
}
