"use client";

import { flexRender, getCoreRowModel, useReactTable, type RowSelectionState, type VisibilityState } from "@tanstack/react-table";
import { clsx } from "clsx";
import { ArrowDown, ArrowUp, ArrowUpDown } from "lucide-react";
import Link from "next/link";
import { useMemo, useState } from "react";
import { BulkActionBar } from "@/components/bulk/bulk-action-bar";
import { HANDLE_COLUMNS, type THandleColumn } from "@/lib/handles/handle-filter-schema";
import type { THandleListItem } from "@/lib/handles/handle-list-dto";
import { inventoryColumns, selectColumn, SORTABLE } from "./inventory-columns";
import { pageHref, sortHref, type TInventoryView } from "./inventory-urls";

/**
 * Server-driven table: the page fetched exactly these rows for the URL's filter, sort and cursor.
 * TanStack only lays them out (manual pagination, filtering and sorting; visibility from the
 * URL's `cols`); every change of state is a link to a new URL.
 */
export function InventoryTable(props: {
  rows: THandleListItem[];
  view: TInventoryView;
  now: number;
  currentPolicyVersion: number | null;
  nextCursor: string | null;
  prevCursor: string | null;
  /** The bulk actions the viewer's role may run: shows the selection column and the action bar. */
  bulk?: { revoke: boolean; cancel: boolean };
}) {
  const { rows, view, now, currentPolicyVersion } = props;
  const canBulk = Boolean(props.bulk?.revoke || props.bulk?.cancel);
  const columns = useMemo(
    () => (canBulk ? [selectColumn(), ...inventoryColumns({ now, currentPolicyVersion })] : inventoryColumns({ now, currentPolicyVersion })),
    [now, currentPolicyVersion, canBulk],
  );
  const [rowSelection, setRowSelection] = useState<RowSelectionState>({});
  const columnVisibility = useMemo<VisibilityState>(
    () => Object.fromEntries(HANDLE_COLUMNS.map((c) => [c, view.columns.includes(c as THandleColumn)])),
    [view.columns],
  );
  // The React Compiler cannot memoise TanStack's instance; it does not need to, since the
  // instance is derived from props on every render and holds no state of ours.
  // eslint-disable-next-line react-hooks/incompatible-library
  const table = useReactTable({
    data: rows,
    columns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (h) => h.id,
    state: { columnVisibility, sorting: [{ id: view.filter.sort, desc: view.filter.dir === "desc" }], rowSelection },
    enableRowSelection: (row) => canBulk && row.original.state === "live",
    onRowSelectionChange: setRowSelection,
    manualPagination: true,
    manualFiltering: true,
    manualSorting: true,
    rowCount: -1,
  });
  const paged = Boolean(view.filter.cursor);
  // Only rows of this page count (a selection made on another page names rows no longer shown).
  const selected = rows.filter((h) => rowSelection[h.id] && h.state === "live").map((h) => h.accessor);

  return (
    <div className="space-y-3">
      {canBulk && props.bulk ? <BulkActionBar rights={props.bulk} filter={view.filter} selected={selected} onClear={() => setRowSelection({})} /> : null}
      <div className="overflow-x-auto rounded-card border border-border bg-surface">
        <table className="w-full border-collapse text-left text-sm [&_tbody_tr:last-child_td]:border-b-0" aria-label="Handles">
          <caption className="sr-only">Task handles matching the filter. Open a handle by its accessor; sort by the column headers that are links.</caption>
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => {
                  const sort = SORTABLE[header.column.id];
                  const active = sort === view.filter.sort;
                  const label = header.isPlaceholder ? null : flexRender(header.column.columnDef.header, header.getContext());
                  return (
                    <th
                      key={header.id}
                      scope="col"
                      aria-sort={active ? (view.filter.dir === "desc" ? "descending" : "ascending") : undefined}
                      className="whitespace-nowrap border-b border-border bg-surface-muted px-3 py-2 text-xs font-semibold uppercase tracking-wide text-fg-muted"
                    >
                      {sort ? (
                        <Link href={sortHref(view, sort)} prefetch={false} className={clsx("inline-flex items-center gap-1 hover:text-fg", active && "text-fg")}>
                          {label}
                          {active ? (
                            view.filter.dir === "desc" ? (
                              <ArrowDown aria-hidden className="size-3" />
                            ) : (
                              <ArrowUp aria-hidden className="size-3" />
                            )
                          ) : (
                            <ArrowUpDown aria-hidden className="size-3 opacity-50" />
                          )}
                        </Link>
                      ) : (
                        label
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {table.getRowModel().rows.map((row) => (
              <tr key={row.id} data-testid="handle-row" data-accessor={row.original.accessor} className="hover:bg-surface-muted/60">
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
          {rows.length} handle{rows.length === 1 ? "" : "s"} on this page
        </span>
        {paged || props.nextCursor ? (
          <div className="flex items-center gap-2">
            <PageLink href={paged ? pageHref(view, null) : null} label="First page" />
            <PageLink href={props.prevCursor ? pageHref(view, props.prevCursor) : null} label="← Previous" />
            <PageLink href={props.nextCursor ? pageHref(view, props.nextCursor) : null} label="Next →" />
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
