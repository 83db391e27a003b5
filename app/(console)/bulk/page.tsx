import type { Metadata } from "next";
import Link from "next/link";
import { BulkStatusBadge, KIND_LABELS } from "@/components/bulk/bulk-status-badge";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { Table, Td, Th } from "@/components/ui/table";
import { requirePageActor } from "@/lib/auth/current-actor";
import { listBulkActions } from "@/lib/bulk/list-bulk-actions";
import type { TBulkList } from "@/lib/bulk/schemas";
import { formatTimestamp } from "@/lib/format";
import type { TQueryRecord } from "@/lib/handles/handle-filter-schema";

export const metadata: Metadata = { title: "Bulk actions" };

// GET /bulk?before — bulk revokes and cancels, newest first, with those waiting for a second
// reviewer's approval on top (reviewers and admins).
export default async function BulkActionsPage({ searchParams }: { searchParams: Promise<TQueryRecord> }) {
  const actor = await requirePageActor("handles.bulk_revoke");
  const before = (await searchParams).before;
  const cursor = typeof before === "string" && /^[0-9A-Za-z_-]{1,200}$/.test(before) ? before : undefined;
  const [waiting, all] = await Promise.all([
    cursor ? Promise.resolve(null) : listBulkActions({ actor, query: { status: "awaiting_approval", limit: "200" } }),
    listBulkActions({ actor, query: cursor ? { before: cursor } : {} }),
  ]);
  return (
    <>
      <PageHeader
        title="Bulk actions"
        description="Bulk revokes and cancels: each one previewed, then run in the background with per-handle results. Above the approval threshold a second reviewer or admin must approve. Start one from the Handles page."
        actions={
          <Link href="/handles" prefetch={false} className="text-sm text-accent underline-offset-4 hover:underline">
            Go to the handles
          </Link>
        }
      />
      {waiting && waiting.data.length > 0 ? (
        <section aria-labelledby="bulk-waiting" className="mb-6 space-y-2">
          <h2 id="bulk-waiting" className="font-semibold">
            Waiting for approval
          </h2>
          <Jobs list={waiting} label="Waiting for approval" viewerId={actor.id} />
        </section>
      ) : null}
      <section aria-labelledby="bulk-all" className="space-y-2">
        <h2 id="bulk-all" className="font-semibold">
          All bulk actions
        </h2>
        {all.data.length === 0 ? (
          <EmptyState title="No bulk actions yet">Choose handles on the Handles page, or filter them, and use the bulk bar above the list.</EmptyState>
        ) : (
          <Jobs list={all} label="Bulk actions" viewerId={actor.id} />
        )}
        {all.nextCursor ? (
          <Link href={`/bulk?before=${all.nextCursor}`} prefetch={false} className="inline-block rounded-control border border-border px-3 py-1 text-sm hover:bg-surface-muted">
            Older →
          </Link>
        ) : null}
      </section>
    </>
  );
}

function Jobs({ list, label, viewerId }: { list: TBulkList; label: string; viewerId: string }) {
  return (
    <Table label={label}>
      <thead>
        <tr>
          <Th>Action</Th>
          <Th>Status</Th>
          <Th>Progress</Th>
          <Th>Requested</Th>
          <Th>Reason</Th>
        </tr>
      </thead>
      <tbody>
        {list.data.map((b) => (
          <tr key={b.id} data-testid="bulk-row">
            <Td>
              <Link href={`/bulk/${b.id}`} prefetch={false} className="font-medium text-accent underline-offset-4 hover:underline">
                {KIND_LABELS[b.kind]} of {b.count.toLocaleString("en")}
              </Link>
            </Td>
            <Td>
              <BulkStatusBadge status={b.status} />
            </Td>
            <Td className="tabular-nums text-xs">
              {b.progress.processed.toLocaleString("en")} / {b.progress.total.toLocaleString("en")}
            </Td>
            <Td className="text-xs">
              {b.requestedBy.id === viewerId ? "you" : b.requestedBy.name}
              <span className="block text-fg-muted">{formatTimestamp(new Date(b.requestedAt))}</span>
            </Td>
            <Td className="max-w-80 truncate text-xs" title={b.reason}>
              {b.reason}
            </Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
