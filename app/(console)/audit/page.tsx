import type { Metadata } from "next";
import Link from "next/link";
import { Suspense } from "react";
import { AuditEventDrawer } from "@/components/audit/event-drawer";
import { AuditIntegrityBadge } from "@/components/audit/integrity-badge";
import { ReferenceLookupForm } from "@/components/audit/reference-lookup-form";
import { AuditTable } from "@/components/audit/table";
import { AuditToolbar } from "@/components/audit/toolbar";
import { AUDIT_PATH, EVENT_PARAM, auditPageLinks, exportHref, parsePrev } from "@/components/audit/urls";
import { Alert } from "@/components/ui/alert";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { getAuditEvent } from "@/lib/audit/get-audit-event";
import { auditFilterToSearchParams, isAuditFilterActive, normaliseAuditFilter, parseAuditFilterLenient, toQueryRecord, type TQueryRecord } from "@/lib/audit/schemas";
import { searchAuditEvents } from "@/lib/audit/search-audit-events";
import { actorCan } from "@/lib/auth/assert-can";
import type { TActor } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/current-actor";
import { isAppError } from "@/lib/errors";

export const metadata: Metadata = { title: "Audit" };

const FIELD_LABELS: Record<string, string> = {
  from: "From",
  to: "To",
  actorId: "Actor id",
  actorType: "Actor type",
  action: "Action",
  targetType: "Target type",
  targetId: "Target id",
  outcome: "Outcome",
  requestId: "Request id",
  refHash: "Secret reference",
  cursor: "Page",
  limit: "Rows per page",
};

// GET /audit — the audit trail: filters, pages and the open event all live in the URL.
export default async function AuditPage({ searchParams }: { searchParams: Promise<TQueryRecord> }) {
  const actor = await requirePageActor("audit.read");
  const query = await searchParams;
  const { filter, issues } = parseAuditFilterLenient(query);
  const prev = parsePrev(query, filter.cursor);
  const eventParam = query[EVENT_PARAM];
  const eventId = Array.isArray(eventParam) ? eventParam[0] : eventParam;

  const [result, opened] = await Promise.all([
    // The cleaned filter goes through the strict parser inside the use case again.
    searchAuditEvents({ actor, filter: toQueryRecord(auditFilterToSearchParams(filter)) }),
    eventId ? openEvent(actor, eventId) : null,
  ]);
  const links = auditPageLinks(filter, prev, result.nextCursor);
  const canExport = actorCan(actor, "audit.export");
  const filtered = isAuditFilterActive(filter);

  return (
    <>
      <PageHeader
        title="Audit trail"
        description="Every action taken in Tether, newest first, written in the same transaction as the action and sealed into a hash chain. Times are UTC. Viewing this page is itself recorded."
        actions={
          canExport ? (
            <div className="flex flex-wrap items-center gap-2" aria-label="Export">
              <span className="text-xs text-fg-muted">{filter.from || filter.to ? "Export this time range:" : "Export everything:"}</span>
              <a href={exportHref("ndjson", filter)} download className={EXPORT_LINK}>
                Export NDJSON
              </a>
              <a href={exportHref("csv", filter)} download className={EXPORT_LINK}>
                Export CSV
              </a>
            </div>
          ) : null
        }
      />
      <div className="mb-4">
        <Suspense fallback={<p className="text-sm text-fg-muted">Checking integrity…</p>}>
          <AuditIntegrityBadge actor={actor} />
        </Suspense>
      </div>

      <AuditToolbar filter={normaliseAuditFilter(filter)} />
      {actorCan(actor, "audit.hash_lookup") ? <ReferenceLookupForm /> : null}

      {issues.length ? (
        <Alert tone="danger" className="mb-4">
          <p className="font-medium">Some filters in the address are not valid and were ignored, so the list below is not narrowed by them:</p>
          <ul className="mt-1 list-disc pl-5">
            {issues.map((issue) => (
              <li key={issue.path}>
                <span className="font-medium">{FIELD_LABELS[issue.path] ?? issue.path}:</span> {issue.message}
              </li>
            ))}
          </ul>
        </Alert>
      ) : null}

      {result.events.length === 0 ? (
        filtered || filter.cursor ? (
          <EmptyState title="No events match these filters">
            <p>Widen the time range or remove a filter.</p>
            <Link href={AUDIT_PATH} prefetch={false} className="mt-2 inline-block font-medium text-accent underline-offset-4 hover:underline">
              Reset all filters
            </Link>
          </EmptyState>
        ) : (
          <EmptyState title="No events yet">Actions taken in Tether appear here as they happen.</EmptyState>
        )
      ) : (
        <AuditTable events={result.events} links={links} selectedId={opened?.event?.id ?? null} />
      )}

      {opened ? <AuditEventDrawer event={opened.event} error={opened.error} closeHref={links.list} /> : null}
    </>
  );
}

const EXPORT_LINK =
  "inline-flex h-9 items-center rounded-control border border-border bg-surface px-3.5 text-sm font-medium text-fg hover:bg-surface-muted";

/** The drawer's event, or the reason it cannot be shown (an unknown id is not a crash). */
async function openEvent(actor: TActor, id: string) {
  try {
    return { event: await getAuditEvent({ actor, id }), error: null };
  } catch (err) {
    if (isAppError(err) && err.status < 500) return { event: null, error: err.message };
    throw err;
  }
}
