"use client";

import Link from "next/link";
import { clsx } from "clsx";
import type { THandleFilter } from "@/lib/handles/handle-filter-schema";
import { bulkNewHref, BULK_PATH } from "./bulk-urls";

const ACTION =
  "inline-flex h-8 items-center rounded-control border px-3 text-sm font-medium transition aria-disabled:pointer-events-none aria-disabled:opacity-50";
const DANGER = "border-danger/50 bg-danger-surface text-danger hover:bg-danger hover:text-white";
const PLAIN = "border-border bg-surface text-fg hover:bg-surface-muted";

/**
 * The inventory's bulk bar (reviewers and admins): revoke or cancel the rows chosen on this page,
 * or every handle matching the current filter. Each leads to a preview of the exact set first;
 * nothing happens from here.
 */
export function BulkActionBar(props: { rights: { revoke: boolean; cancel: boolean }; filter: THandleFilter; selected: string[]; onClear: () => void }) {
  const { rights, filter, selected } = props;
  const none = selected.length === 0;
  return (
    <section aria-label="Bulk actions" className="flex flex-wrap items-center gap-2 rounded-card border border-border bg-surface px-3 py-2 text-sm">
      <span className="mr-1 text-fg-muted" data-testid="bulk-selected" aria-live="polite">
        {none ? "Select live handles on this page, or act on all that match the filter:" : `${selected.length} selected on this page`}
      </span>
      {rights.revoke ? (
        <Link href={none ? "#" : bulkNewHref("revoke", { accessors: selected })} aria-disabled={none} prefetch={false} className={clsx(ACTION, DANGER)}>
          Revoke selected
        </Link>
      ) : null}
      {rights.cancel ? (
        <Link href={none ? "#" : bulkNewHref("cancel", { accessors: selected })} aria-disabled={none} prefetch={false} className={clsx(ACTION, PLAIN)}>
          Cancel selected
        </Link>
      ) : null}
      {!none ? (
        <button type="button" onClick={props.onClear} className="text-fg-muted underline-offset-4 hover:text-fg hover:underline">
          Clear selection
        </button>
      ) : null}
      <span aria-hidden className="mx-1 h-5 w-px bg-border" />
      {rights.revoke ? (
        <Link href={bulkNewHref("revoke", { filter })} prefetch={false} className={clsx(ACTION, DANGER)}>
          Revoke all matching this filter
        </Link>
      ) : null}
      {rights.cancel ? (
        <Link href={bulkNewHref("cancel", { filter })} prefetch={false} className={clsx(ACTION, PLAIN)}>
          Cancel all matching this filter
        </Link>
      ) : null}
      <Link href={BULK_PATH} prefetch={false} className="ml-auto text-accent underline-offset-4 hover:underline">
        Bulk actions →
      </Link>
    </section>
  );
}
