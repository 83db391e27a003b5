import { createColumnHelper } from "@tanstack/react-table";
import { clsx } from "clsx";
import Link from "next/link";
import { Badge } from "@/components/ui/table";
import { formatRelative, formatTimestamp } from "@/lib/format";
import type { THandleColumn, THandleSort } from "@/lib/handles/handle-filter-schema";
import type { THandleListItem } from "@/lib/handles/handle-list-dto";
import { TASK_WIRE_LABELS } from "@/lib/servers/schemas";
import { InventoryTtlBar, isExpiringSoon } from "./inventory-ttl-bar";
import { handleHref } from "./inventory-urls";

export const STATUS_TONE = {
  working: "accent",
  input_required: "warning",
  completed: "success",
  failed: "danger",
  cancelled: "neutral",
  expired_upstream: "neutral",
} as const;

export const COLUMN_LABELS: Record<THandleColumn, string> = {
  server: "Server",
  owner: "Owner",
  session: "Session",
  tool: "Tool",
  status: "Status",
  created: "Created",
  expires: "Expires",
  lastUsed: "Last used",
  useCount: "Uses",
  policy: "Policy",
  state: "Revocation / cancel",
};

/** Columns the database can order by, and the sort each one stands for. */
export const SORTABLE: Partial<Record<string, THandleSort>> = { created: "created", expires: "expires", lastUsed: "lastUsed", useCount: "useCount" };

const col = createColumnHelper<THandleListItem>();

const when = (iso: string | null, now: number) =>
  iso ? (
    <time dateTime={iso} title={formatTimestamp(new Date(iso))} className="whitespace-nowrap text-xs">
      {formatRelative(new Date(iso), new Date(now))}
    </time>
  ) : (
    <span className="text-xs text-fg-muted">never</span>
  );

/**
 * The inventory's columns. Nothing here sorts or filters: the database does both and the table
 * runs in manual mode. `now` is the server's clock at render, so relative times and TTL bars
 * read the same on the server and in the browser.
 */
export function inventoryColumns(ctx: { now: number; currentPolicyVersion: number | null }) {
  const { now } = ctx;
  return [
    col.accessor("accessor", {
      header: "Accessor",
      enableHiding: false,
      cell: (c) => (
        <Link href={handleHref(c.getValue())} prefetch={false} className="whitespace-nowrap font-mono text-xs font-medium text-accent underline-offset-4 hover:underline">
          {c.getValue()}
        </Link>
      ),
    }),
    col.accessor("server", {
      id: "server",
      header: COLUMN_LABELS.server,
      cell: ({ row: { original: h } }) => (
        <span className="block text-xs">
          <span className="font-medium">{h.server.slug}</span>
          {h.server.removed ? (
            <span className="ml-1">
              <Badge tone="danger">removed</Badge>
            </span>
          ) : !h.server.enabled ? (
            <span className="ml-1">
              <Badge tone="warning">disabled</Badge>
            </span>
          ) : null}
          <span className="block max-w-52 truncate text-fg-muted" title={h.audience}>
            {h.audience}
          </span>
          <span className="block text-fg-muted" data-testid="handle-wire">
            {TASK_WIRE_LABELS[h.wire]}
          </span>
        </span>
      ),
    }),
    col.accessor("owner", {
      id: "owner",
      header: COLUMN_LABELS.owner,
      cell: ({ row: { original: h } }) => (
        <span className="block text-xs">
          <span className="font-medium">{h.owner.name}</span>
          {h.owner.disabled ? (
            <span className="ml-1">
              <Badge tone="danger">disabled</Badge>
            </span>
          ) : null}
          <span className="block text-fg-muted">{h.owner.kind === "service" ? "agent" : h.owner.kind}</span>
        </span>
      ),
    }),
    col.accessor("session", {
      id: "session",
      header: COLUMN_LABELS.session,
      cell: ({ row: { original: h } }) =>
        h.session ? (
          <span className="block text-xs">
            <span className="font-mono" title={h.session.id}>
              {h.session.id.slice(0, 8)}
            </span>
            {h.session.ended ? <span className="block text-fg-muted">ended</span> : null}
          </span>
        ) : h.wire === "ext_2026_07_28" ? (
          <span className="text-xs text-fg-muted" title="The 2026-07-28 task wire has no sessions: the handle is bound to the agent's API key instead.">
            none (no sessions on this wire)
          </span>
        ) : (
          <span className="text-xs text-fg-muted">unbound</span>
        ),
    }),
    col.accessor("toolName", { id: "tool", header: COLUMN_LABELS.tool, cell: (c) => <span className="whitespace-nowrap font-mono text-xs">{c.getValue()}</span> }),
    col.accessor("status", {
      id: "status",
      header: COLUMN_LABELS.status,
      cell: ({ row: { original: h } }) => (
        <span className="block">
          <Badge tone={STATUS_TONE[h.status]}>{h.status.replace("_", " ")}</Badge>
          {h.statusMessage ? <span className="mt-1 line-clamp-2 block max-w-56 text-xs text-fg-muted">{h.statusMessage}</span> : null}
        </span>
      ),
    }),
    col.accessor("createdAt", { id: "created", header: COLUMN_LABELS.created, cell: (c) => when(c.getValue(), now) }),
    col.accessor("expiresAt", {
      id: "expires",
      header: COLUMN_LABELS.expires,
      cell: ({ row: { original: h } }) => {
        const live = h.state === "live";
        const soon = isExpiringSoon(h.expiresAt, now, live);
        return (
          <span className={clsx("block", soon && "font-medium text-warning")}>
            {when(h.expiresAt, now)}
            {soon ? <span className="block text-xs">expiring soon</span> : null}
            <InventoryTtlBar createdAt={h.createdAt} expiresAt={h.expiresAt} now={now} live={live} />
          </span>
        );
      },
    }),
    col.accessor("lastUsedAt", { id: "lastUsed", header: COLUMN_LABELS.lastUsed, cell: (c) => when(c.getValue(), now) }),
    col.accessor("useCount", { id: "useCount", header: COLUMN_LABELS.useCount, cell: (c) => <span className="text-xs tabular-nums">{c.getValue()}</span> }),
    col.accessor("policyVersion", {
      id: "policy",
      header: COLUMN_LABELS.policy,
      cell: (c) => {
        const old = ctx.currentPolicyVersion !== null && c.getValue() < ctx.currentPolicyVersion;
        return (
          <span className="whitespace-nowrap text-xs" title={old ? `Issued under v${c.getValue()}; v${ctx.currentPolicyVersion} is in force` : undefined}>
            v{c.getValue()}
            {old ? <span className="ml-1 text-warning">old</span> : null}
          </span>
        );
      },
    }),
    col.accessor("state", {
      id: "state",
      header: COLUMN_LABELS.state,
      cell: ({ row: { original: h } }) => (
        <span className="block text-xs">
          {h.state === "revoked" ? (
            <span title={h.revokeReason ?? undefined}>
              <Badge tone="danger">revoked</Badge>
              <span className="block text-fg-muted">{(h.revokeTrigger ?? "manual").replace(/_/g, " ")}</span>
            </span>
          ) : h.state === "expired" ? (
            <Badge>expired</Badge>
          ) : (
            <Badge tone="success">live</Badge>
          )}
          {h.cancelState !== "none" ? <span className="mt-1 block text-fg-muted">cancel: {h.cancelState.replace(/_/g, " ")}</span> : null}
        </span>
      ),
    }),
  ];
}

/**
 * The row-selection column for bulk actions (shown to roles that may run one). Only live handles
 * can be chosen: a revoke or cancel applies to nothing else. The selection is the page's
 * working state, not the URL's: it names rows of this page only.
 */
export function selectColumn() {
  return col.display({
    id: "select",
    enableHiding: false,
    header: ({ table }) => (
      <input
        type="checkbox"
        aria-label="Select all live handles on this page"
        className="size-4 accent-accent"
        checked={table.getIsAllPageRowsSelected()}
        ref={(el) => {
          if (el) el.indeterminate = table.getIsSomePageRowsSelected();
        }}
        onChange={table.getToggleAllPageRowsSelectedHandler()}
      />
    ),
    cell: ({ row }) => (
      <input
        type="checkbox"
        aria-label={`Select ${row.original.accessor}`}
        className="size-4 accent-accent disabled:opacity-30"
        checked={row.getIsSelected()}
        disabled={!row.getCanSelect()}
        onChange={row.getToggleSelectedHandler()}
      />
    ),
  });
}
