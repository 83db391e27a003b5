// In a route group of its own so that this loading state wraps only the inventory: the handle
// page must be able to answer 404 before anything is streamed.
import { PageHeader } from "@/components/ui/page-header";

// Shown while the inventory for a new URL is read: the page's frame with a skeleton table, so the
// layout does not jump when the rows arrive.
export default function HandlesLoading() {
  return (
    <div aria-busy="true" aria-live="polite">
      <PageHeader title="Handles" description="Every task handle Tether has minted, with the owner, server, session and lifetime it is bound to. Times are UTC." />
      <p className="sr-only">Loading handles…</p>
      <div className="mb-3 h-9 animate-pulse rounded-control bg-surface-muted" />
      <div className="mb-4 h-28 animate-pulse rounded-card border border-border bg-surface" />
      <div className="overflow-hidden rounded-card border border-border bg-surface">
        <div className="h-9 border-b border-border bg-surface-muted" />
        {Array.from({ length: 8 }, (_, i) => (
          <div key={i} className="flex gap-4 border-b border-border px-3 py-3 last:border-b-0">
            <div className="h-4 w-40 animate-pulse rounded bg-surface-muted" />
            <div className="h-4 w-24 animate-pulse rounded bg-surface-muted" />
            <div className="h-4 w-28 animate-pulse rounded bg-surface-muted" />
            <div className="h-4 flex-1 animate-pulse rounded bg-surface-muted" />
          </div>
        ))}
      </div>
    </div>
  );
}
