"use client";

import { useRouter } from "next/navigation";
import { HANDLE_COLUMNS, type THandleColumn } from "@/lib/handles/handle-filter-schema";
import { COLUMN_LABELS } from "./inventory-columns";
import { columnsHref, type TInventoryView } from "./inventory-urls";

/** Column visibility. The URL's `cols` is the only state: each change navigates. */
export function InventoryColumnMenu({ view }: { view: TInventoryView }) {
  const router = useRouter();
  const visible = new Set<THandleColumn>(view.columns);
  function toggle(column: THandleColumn, on: boolean) {
    const next = HANDLE_COLUMNS.filter((c) => (c === column ? on : visible.has(c)));
    router.push(columnsHref(view, next), { scroll: false });
  }
  return (
    <details className="relative">
      <summary className="inline-flex h-9 cursor-pointer select-none items-center rounded-control border border-border bg-surface px-3.5 text-sm font-medium hover:bg-surface-muted">
        Columns
      </summary>
      <fieldset className="absolute right-0 z-10 mt-1 w-56 rounded-card border border-border bg-surface p-3 shadow-lg">
        <legend className="sr-only">Visible columns</legend>
        <p className="mb-1 text-xs text-fg-muted">The accessor always shows.</p>
        {HANDLE_COLUMNS.map((c) => (
          <label key={c} className="flex items-center gap-2 py-0.5 text-sm">
            <input type="checkbox" checked={visible.has(c)} onChange={(e) => toggle(c, e.currentTarget.checked)} className="size-3.5 accent-[var(--accent)]" />
            {COLUMN_LABELS[c]}
          </label>
        ))}
      </fieldset>
    </details>
  );
}
