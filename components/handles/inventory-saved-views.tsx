"use client";

import { Bookmark, Trash2 } from "lucide-react";
import Link from "next/link";
import { useState, useTransition, type FormEvent } from "react";
import { Button } from "@/components/ui/button";
import type { TSavedViewDto } from "@/lib/handles/saved-view-schemas";
import { deleteViewAction, saveViewAction } from "./inventory-actions";

/**
 * The reader's own saved views: open one (a link to its URL), save the current filter under a
 * name (the same name replaces), delete one. Writes are server actions; the list is the server's,
 * refreshed after each change.
 */
export function InventorySavedViews({ views, currentQuery }: { views: TSavedViewDto[]; currentQuery: string }) {
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  function save(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const name = String(new FormData(form).get("name") ?? "");
    startTransition(async () => {
      setError(null);
      setNotice(null);
      const result = await saveViewAction({ name, query: currentQuery });
      if (!result.ok) return setError(Object.values(result.fieldErrors)[0] ?? result.error);
      setNotice(result.data.replaced ? `View “${result.data.view.name}” updated.` : `View “${result.data.view.name}” saved.`);
      form.reset();
    });
  }

  function remove(view: TSavedViewDto) {
    startTransition(async () => {
      setError(null);
      setNotice(null);
      const result = await deleteViewAction(view.id);
      if (!result.ok) return setError(result.error);
      setNotice(`View “${view.name}” deleted.`);
    });
  }

  return (
    <details className="relative">
      <summary className="inline-flex h-9 cursor-pointer select-none items-center gap-2 rounded-control border border-border bg-surface px-3.5 text-sm font-medium hover:bg-surface-muted">
        <Bookmark aria-hidden className="size-4" />
        Saved views{views.length ? <span className="text-fg-muted">({views.length})</span> : null}
      </summary>
      <div className="absolute right-0 z-10 mt-1 w-80 space-y-3 rounded-card border border-border bg-surface p-3 shadow-lg" aria-busy={pending}>
        {views.length === 0 ? (
          <p className="text-sm text-fg-muted">No saved views yet. Filter the list, then save it here under a name; only you see your views.</p>
        ) : (
          <ul aria-label="Your saved views" className="max-h-64 space-y-1 overflow-y-auto">
            {views.map((v) => (
              <li key={v.id} className="flex items-center gap-2">
                <Link
                  href={v.href}
                  prefetch={false}
                  aria-current={v.query === currentQuery ? "page" : undefined}
                  className="min-w-0 flex-1 truncate rounded-control px-2 py-1 text-sm hover:bg-surface-muted aria-[current=page]:font-semibold"
                  title={v.query || "all handles"}
                >
                  {v.name}
                </Link>
                <button
                  type="button"
                  onClick={() => remove(v)}
                  disabled={pending}
                  aria-label={`Delete view ${v.name}`}
                  className="rounded-control p-1 text-fg-muted hover:bg-surface-muted hover:text-danger disabled:opacity-50"
                >
                  <Trash2 aria-hidden className="size-4" />
                </button>
              </li>
            ))}
          </ul>
        )}
        <form onSubmit={save} className="space-y-2 border-t border-border pt-3" aria-label="Save this view">
          <label htmlFor="view-name" className="block text-xs font-medium text-fg-muted">
            Save the current filter as
          </label>
          <div className="flex gap-2">
            <input
              id="view-name"
              name="name"
              required
              maxLength={80}
              placeholder="e.g. Orphaned on demo"
              autoComplete="off"
              className="block w-full min-w-0 rounded-control border border-border bg-surface px-2.5 py-1.5 text-sm text-fg placeholder:text-fg-muted"
            />
            <Button type="submit" disabled={pending}>
              Save
            </Button>
          </div>
        </form>
        {error ? (
          <p role="alert" className="text-sm text-danger">
            {error}
          </p>
        ) : null}
        {notice ? (
          <p role="status" className="text-sm text-success">
            {notice}
          </p>
        ) : null}
      </div>
    </details>
  );
}
