import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { BulkAutoRefresh } from "@/components/bulk/bulk-auto-refresh";
import { BulkDecisionPanel } from "@/components/bulk/bulk-decision-panel";
import { BulkProgress } from "@/components/bulk/bulk-progress";
import { BulkResultBadge, BulkStatusBadge, KIND_LABELS } from "@/components/bulk/bulk-status-badge";
import { bulkHref } from "@/components/bulk/bulk-urls";
import { handleHref } from "@/components/handles/inventory-urls";
import { Alert } from "@/components/ui/alert";
import { PageHeader } from "@/components/ui/page-header";
import { Table, Td, Th } from "@/components/ui/table";
import { requirePageActor } from "@/lib/auth/current-actor";
import { bulkRightsOf } from "@/lib/bulk/bulk-rights";
import { getBulkAction } from "@/lib/bulk/get-bulk-action";
import { listBulkActionItems } from "@/lib/bulk/list-bulk-action-items";
import { BULK_ITEM_RESULTS, BULK_RESULT_LABELS, isBulkActive, type TBulkActionDto } from "@/lib/bulk/schemas";
import { isAppError } from "@/lib/errors";
import { formatTimestamp } from "@/lib/format";
import type { TQueryRecord } from "@/lib/handles/handle-filter-schema";

export const metadata: Metadata = { title: "Bulk action" };

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

// GET /bulk/{id}?result&after — one bulk action: status, progress, the final summary, every
// handle's result, and the decisions the viewer may take (approve / reject / cancel).
export default async function BulkActionPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<TQueryRecord> }) {
  const actor = await requirePageActor("handles.bulk_revoke");
  const { id } = await params;
  const query = await searchParams;
  const result = one(query.result);
  const after = one(query.after);
  let loaded;
  try {
    loaded = await Promise.all([
      getBulkAction({ actor, id }),
      listBulkActionItems({ actor, query: { id, ...(result ? { result } : {}), ...(after ? { after } : {}) } }),
    ]);
  } catch (err) {
    if (isAppError(err) && (err.code === "NOT_FOUND" || err.code === "INVALID_INPUT")) notFound();
    throw err;
  }
  const [bulk, items] = loaded;
  const rights = bulkRightsOf(actor.role)[bulk.kind];
  const own = bulk.requestedBy.id === actor.id;
  const canApprove = rights && !own && bulk.status === "awaiting_approval";
  const canCancel = rights && ["awaiting_approval", "approved", "running"].includes(bulk.status);
  const finished = bulk.finishedAt !== null;

  return (
    <>
      <PageHeader
        title={`${KIND_LABELS[bulk.kind]} of ${bulk.count.toLocaleString("en")} handle${bulk.count === 1 ? "" : "s"}`}
        description={`Requested by ${bulk.requestedBy.name} ${formatTimestamp(new Date(bulk.requestedAt))}. Reason: ${bulk.reason}`}
        actions={
          <Link href="/bulk" prefetch={false} className="text-sm text-accent underline-offset-4 hover:underline">
            All bulk actions
          </Link>
        }
      />
      {isBulkActive(bulk.status) ? <BulkAutoRefresh seconds={1} /> : bulk.status === "awaiting_approval" ? <BulkAutoRefresh seconds={5} /> : null}

      <div className="space-y-6">
        <section aria-labelledby="bulk-state" className="space-y-4 rounded-card border border-border bg-surface px-4 py-4">
          <h2 id="bulk-state" className="flex items-center gap-2 font-semibold">
            Status <span data-testid="bulk-status">{<BulkStatusBadge status={bulk.status} />}</span>
          </h2>
          <StatusLine bulk={bulk} own={own} />
          {bulk.status === "awaiting_approval" || bulk.status === "rejected" ? null : <BulkProgress kind={bulk.kind} progress={bulk.progress} />}
          <BulkDecisionPanel id={bulk.id} canApprove={canApprove} canCancel={canCancel} count={bulk.count} />
        </section>

        {finished ? <Summary bulk={bulk} /> : null}

        <section aria-labelledby="bulk-items" className="space-y-2">
          <div className="flex flex-wrap items-end justify-between gap-2">
            <h2 id="bulk-items" className="font-semibold">
              Handles
            </h2>
            <nav aria-label="Show results" className="flex flex-wrap gap-1 text-xs">
              {[null, ...BULK_ITEM_RESULTS.filter((r) => bulk.kind === "cancel" || !["not_cancellable", "cancel_requested", "cancelled"].includes(r)), "pending" as const].map((r) => (
                <Link
                  key={r ?? "all"}
                  href={bulkHref(bulk.id, { result: r })}
                  prefetch={false}
                  aria-current={(result ?? null) === r ? "page" : undefined}
                  className="rounded-full border border-border px-2.5 py-1 hover:bg-surface-muted aria-[current=page]:bg-surface-muted aria-[current=page]:font-semibold"
                >
                  {r ? BULK_RESULT_LABELS[r] : "all"}
                </Link>
              ))}
            </nav>
          </div>
          {items.items.length === 0 ? (
            <p className="text-sm text-fg-muted">No handle {result ? `with the result “${BULK_RESULT_LABELS[result as keyof typeof BULK_RESULT_LABELS] ?? result}”` : ""} here.</p>
          ) : (
            <Table label="Per-handle results">
              <thead>
                <tr>
                  <Th>#</Th>
                  <Th>Accessor</Th>
                  <Th>Result</Th>
                  {bulk.kind === "cancel" ? <Th>Upstream answer</Th> : null}
                  <Th>Detail</Th>
                  <Th>When</Th>
                </tr>
              </thead>
              <tbody>
                {items.items.map((item) => (
                  <tr key={item.ordinal} data-testid="bulk-item" data-accessor={item.accessor} data-result={item.result ?? "pending"}>
                    <Td className="tabular-nums text-xs text-fg-muted">{item.ordinal}</Td>
                    <Td>
                      <Link href={handleHref(item.accessor)} prefetch={false} className="font-mono text-xs text-accent underline-offset-4 hover:underline">
                        {item.accessor}
                      </Link>
                    </Td>
                    <Td>
                      <BulkResultBadge result={item.result ?? "pending"} />
                    </Td>
                    {bulk.kind === "cancel" ? <Td className="text-xs">{item.cancelOutcome?.replace(/_/g, " ") ?? "—"}</Td> : null}
                    <Td className="text-xs text-fg-muted">{item.detail ?? ""}</Td>
                    <Td className="whitespace-nowrap text-xs">{item.processedAt ? formatTimestamp(new Date(item.processedAt)) : "—"}</Td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
          <nav aria-label="Pages" className="flex gap-2 text-sm">
            {after ? (
              <Link href={bulkHref(bulk.id, { result: result ?? null })} prefetch={false} className="rounded-control border border-border px-3 py-1 hover:bg-surface-muted">
                First page
              </Link>
            ) : null}
            {items.nextCursor ? (
              <Link href={bulkHref(bulk.id, { result: result ?? null, after: items.nextCursor })} prefetch={false} className="rounded-control border border-border px-3 py-1 hover:bg-surface-muted">
                Next →
              </Link>
            ) : null}
          </nav>
        </section>
      </div>
    </>
  );
}

function StatusLine({ bulk, own }: { bulk: TBulkActionDto; own: boolean }) {
  const when = (iso: string | null) => (iso ? formatTimestamp(new Date(iso)) : "");
  switch (bulk.status) {
    case "awaiting_approval":
      return (
        <Alert tone="warning">
          More handles than the approval threshold: a second reviewer or admin must approve before anything happens.
          {own ? " You requested it, so someone else must approve it; send them this page." : ""}
        </Alert>
      );
    case "rejected":
      return (
        <Alert>
          Rejected by {bulk.closedBy?.name} {when(bulk.closedAt)}: {bulk.closeReason}. Nothing was done.
        </Alert>
      );
    case "cancelled":
      return (
        <Alert>
          Cancelled by {bulk.closedBy?.name} {when(bulk.closedAt)}: {bulk.closeReason}. Handles already processed stay so; the rest were not touched.
        </Alert>
      );
    case "failed":
      return <Alert tone="danger">The job failed repeatedly and was stopped. Handles already processed stay so; the rest were not touched.</Alert>;
    default:
      return (
        <p className="text-sm text-fg-muted">
          {bulk.approvedBy ? `Approved by ${bulk.approvedBy.name} ${when(bulk.approvedAt)}. ` : bulk.needsApproval ? "" : "Below the approval threshold: no second approval needed. "}
          {bulk.startedAt ? `Started ${when(bulk.startedAt)}.` : "Starting…"} {bulk.finishedAt ? `Finished ${when(bulk.finishedAt)}.` : ""}
        </p>
      );
  }
}

function Summary({ bulk }: { bulk: TBulkActionDto }) {
  const elapsed = bulk.startedAt && bulk.finishedAt ? (new Date(bulk.finishedAt).getTime() - new Date(bulk.startedAt).getTime()) / 1000 : null;
  return (
    <section aria-labelledby="bulk-summary" data-testid="bulk-summary" className="space-y-2">
      <h2 id="bulk-summary" className="font-semibold">
        Summary{elapsed !== null ? <span className="ml-2 text-sm font-normal text-fg-muted">in {elapsed.toFixed(1)} s</span> : null}
      </h2>
      <Table label="Summary">
        <tbody>
          {bulk.results.map((r) => (
            <tr key={`${r.result}:${r.cancelOutcome ?? ""}`}>
              <Td>
                <BulkResultBadge result={r.result} />
                {r.cancelOutcome ? <span className="ml-2 text-xs text-fg-muted">upstream: {r.cancelOutcome.replace(/_/g, " ")}</span> : null}
              </Td>
              <Td className="text-right tabular-nums">{r.count.toLocaleString("en")}</Td>
            </tr>
          ))}
        </tbody>
      </Table>
    </section>
  );
}
