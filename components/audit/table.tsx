"use client";

import { flexRender, getCoreRowModel, useReactTable } from "@tanstack/react-table";
import { clsx } from "clsx";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo } from "react";
import type { TAuditEventDto } from "@/lib/audit/schemas";
import { auditColumns } from "./columns";
import { eventHref, type TAuditPageLinks } from "./urls";

/**
 * Server-driven table: the page fetched exactly these rows for the URL's filter and cursor.
 * TanStack only lays them out (manual pagination, filtering and sorting); every change of
 * state is a navigation to a new URL.
 */
export function AuditTable({ events, links, selectedId }: { events: TAuditEventDto[]; links: TAuditPageLinks; selectedId: string | null }) {
  const router = useRouter();
  const columns = useMemo(() => auditColumns(links.listQuery), [links.listQuery]);
  // The React Compiler cannot memoise TanStack's instance; it does not need to, since the
  // instance is derived from props on every render and holds no state of ours.
  // eslint-disable-next-line react-hooks/incompatible-library
  const table = useReactTable({
    data: events,
    columns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (e) => e.id,
    manualPagination: true,
    manualFiltering: true,
    manualSorting: true,
    enableSorting: false,
    rowCount: -1,
  });

  return (
    <div className="space-y-3">
      <div className="overflow-x-auto rounded-card border border-border bg-surface">
        <table className="w-full border-collapse text-left text-sm [&_tbody_tr:last-child_td]:border-b-0" aria-label="Audit events">
          <caption className="sr-only">Audit events, newest first. Open an event by its number to see every field and its payload.</caption>
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => (
                  <th key={header.id} scope="col" className="border-b border-border bg-surface-muted px-3 py-2 text-xs font-semibold uppercase tracking-wide text-fg-muted">
                    {header.isPlaceholder ? null : flexRender(header.column.columnDef.header, header.getContext())}
                  </th>
                ))}
              </tr>
            ))}
          </thead>
          <tbody>
            {table.getRowModel().rows.map((row) => (
              <tr
                key={row.id}
                aria-current={row.id === selectedId ? "true" : undefined}
                // Mouse convenience only; the number link is the keyboard and screen-reader way in.
                onClick={(e) => {
                  if ((e.target as HTMLElement).closest("a,button") || window.getSelection()?.toString()) return;
                  router.push(eventHref(links.listQuery, row.id), { scroll: false });
                }}
                className={clsx("cursor-pointer hover:bg-surface-muted/60", row.id === selectedId && "bg-surface-muted")}
              >
                {row.getVisibleCells().map((cell) => (
                  <td key={cell.id} className="border-b border-border px-3 py-2 align-top">
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav aria-label="Pages" className="flex flex-wrap items-center justify-between gap-2 text-sm">
        <span className="text-fg-muted">
          {events.length} event{events.length === 1 ? "" : "s"} on this page
        </span>
        {links.newest || links.older ? (
          <div className="flex items-center gap-2">
            <PageLink href={links.newest} label="Newest" />
            <PageLink href={links.newer} label="← Newer" />
            <PageLink href={links.older} label="Older →" />
          </div>
        ) : null}
      </nav>
    </div>
  );
}

function PageLink({ href, label }: { href: string | null; label: string }) {
  const className = "inline-flex h-8 items-center rounded-control border border-border px-3 text-sm font-medium";
  if (!href) {
    return (
      <span aria-disabled="true" className={clsx(className, "cursor-not-allowed text-fg-muted opacity-50")}>
        {label}
      </span>
    );
  }
  return (
    <Link href={href} prefetch={false} className={clsx(className, "bg-surface text-fg hover:bg-surface-muted")}>
      {label}
    </Link>
  );
}
