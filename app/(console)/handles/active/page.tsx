import type { Metadata } from "next";
import Link from "next/link";
import { HandleActiveTable } from "@/components/handles/handle-active-table";
import { LiveRefresh } from "@/components/live/live-refresh";
import { AutoRefresh } from "@/components/servers/auto-refresh";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { actorCan } from "@/lib/auth/assert-can";
import { requirePageActor } from "@/lib/auth/current-actor";
import { isAppError } from "@/lib/errors";
import { listActiveHandles } from "@/lib/handles/list-active-handles";

export const metadata: Metadata = { title: "Queued and running actions" };

// GET /handles/active — the support view: tasks still queued or running behind live handles, newest first, cancel as the primary action.
export default async function ActiveHandlesPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const actor = await requirePageActor("handles.read");
  const before = (await searchParams).before;
  const page = await listActiveHandles({ actor, query: { before: typeof before === "string" ? before : undefined } }).catch((err: unknown) => {
    // A cursor that is not one: the first page, as for any lenient page parameter.
    if (isAppError(err) && err.code === "INVALID_INPUT") return listActiveHandles({ actor });
    throw err;
  });
  const canCancel = actorCan(actor, "handles.cancel");
  const now = new Date().getTime();
  return (
    <>
      <AutoRefresh seconds={5} />
      <LiveRefresh topics={["handle"]} />
      <PageHeader
        title="Queued and running actions"
        description={
          canCancel
            ? "Tasks agents started that have not ended, newest first. Cancelling sends tasks/cancel upstream, records the outcome and revokes the handle; a reason is required."
            : "Tasks agents started that have not ended, newest first."
        }
      />
      <HandleActiveTable handles={page.handles} now={now} canCancel={canCancel} />
      {page.handles.length === 0 ? (
        <EmptyState title={before ? "No older actions" : "Nothing is queued or running"}>
          {before ? (
            <Link href="/handles/active" className="text-accent underline-offset-4 hover:underline">
              Back to the newest
            </Link>
          ) : (
            "Actions appear here while an agent's task is working or waiting for input."
          )}
        </EmptyState>
      ) : null}
      {page.nextCursor || before ? (
        <nav aria-label="Pages" className="mt-3 flex gap-4 text-sm">
          {before ? (
            <Link href="/handles/active" className="text-accent underline-offset-4 hover:underline">
              ← Newest
            </Link>
          ) : null}
          {page.nextCursor ? (
            <Link href={`/handles/active?before=${page.nextCursor}`} className="text-accent underline-offset-4 hover:underline">
              Older →
            </Link>
          ) : null}
        </nav>
      ) : null}
    </>
  );
}
