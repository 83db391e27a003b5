"use client";

import { X } from "lucide-react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/table";
import { AUDIT_PAYLOADS, type TAuditAction } from "@/lib/audit/events";
import type { TAuditEventDto } from "@/lib/audit/schemas";
import { OUTCOME_TONE } from "./columns";
import { filterHref } from "./urls";

const TITLE_ID = "audit-event-title";

/**
 * The event opened by `?event=<id>`, as a modal side panel over the list. Closing (the close
 * link, Escape, a click beside the panel) navigates back to the list URL; nothing here keeps
 * state. A native <dialog> shown with showModal() traps focus and restores the page's inertness.
 */
export function AuditEventDrawer({ event, error, closeHref }: { event: TAuditEventDto | null; error: string | null; closeHref: string }) {
  const router = useRouter();
  const close = useCallback(() => router.push(closeHref, { scroll: false }), [router, closeHref]);
  // Server-rendered open (readable before hydration and without JavaScript), then made modal.
  const showModal = useCallback((el: HTMLDialogElement | null) => {
    if (!el || el.matches(":modal")) return;
    if (el.open) el.close();
    el.showModal();
  }, []);

  return (
    <dialog
      ref={showModal}
      open
      aria-labelledby={TITLE_ID}
      onCancel={(e) => {
        e.preventDefault();
        close();
      }}
      onClick={(e) => {
        if (e.target === e.currentTarget) close();
      }}
      className="fixed inset-y-0 left-auto right-0 z-50 m-0 h-dvh max-h-none w-full max-w-2xl overflow-hidden border-l border-border bg-surface p-0 text-fg shadow-2xl backdrop:bg-black/50"
    >
      <div className="flex h-full flex-col">
        <header className="flex items-start justify-between gap-4 border-b border-border px-5 py-4">
          <div className="min-w-0">
            <h2 id={TITLE_ID} className="text-lg font-semibold">
              {event ? `Event #${event.seq}` : "Audit event"}
            </h2>
            {event ? (
              <p className="mt-1 flex flex-wrap items-center gap-2">
                <code className="font-mono text-sm">{event.action}</code>
                <Badge tone={OUTCOME_TONE[event.outcome]}>{event.outcome}</Badge>
              </p>
            ) : null}
          </div>
          <Link
            href={closeHref}
            prefetch={false}
            scroll={false}
            aria-label="Close event details"
            className="inline-flex size-9 shrink-0 items-center justify-center rounded-control border border-border text-fg-muted hover:bg-surface-muted hover:text-fg"
          >
            <X aria-hidden className="size-4" />
          </Link>
        </header>
        <div className="flex-1 space-y-6 overflow-y-auto px-5 py-4">
          {error ? <Alert tone="danger">{error}</Alert> : null}
          {event ? <EventDetails event={event} /> : null}
        </div>
      </div>
    </dialog>
  );
}

function EventDetails({ event: e }: { event: TAuditEventDto }) {
  const schema = (AUDIT_PAYLOADS as Record<string, (typeof AUDIT_PAYLOADS)[keyof typeof AUDIT_PAYLOADS] | undefined>)[e.action];
  // Payloads are validated when written; a mismatch now means the schema changed since, or the row did.
  const typed = schema ? schema.safeParse(e.payload).success : null;
  return (
    <>
      <section aria-labelledby="audit-event-fields">
        <h3 id="audit-event-fields" className="sr-only">
          Fields
        </h3>
        <dl className="grid grid-cols-[9rem_1fr] gap-x-4 gap-y-2 text-sm">
          <Row label="Event id" mono>
            {e.id}
          </Row>
          <Row label="Sequence" mono>
            {e.seq}
          </Row>
          <Row label="Time (UTC)" mono>
            {e.occurredAt.toISOString().replace("T", " ").replace("Z", "")}
          </Row>
          <Row label="Actor">
            {e.actorType}
            {e.actorRole ? ` · ${e.actorRole}` : ""}
            {e.actorId ? <span className="block break-all font-mono text-xs text-fg-muted">{e.actorId}</span> : null}
          </Row>
          <Row label="Target">
            {e.targetType ? (
              <>
                {e.targetType}
                <span className="block break-all font-mono text-xs text-fg-muted">{e.targetId}</span>
              </>
            ) : (
              "—"
            )}
          </Row>
          <Row label="Reason">{e.reason ?? "—"}</Row>
          <Row label="Request id" mono>
            {e.requestId ?? "—"}
          </Row>
          <Row label="Client address" mono>
            {e.ip ?? "—"}
          </Row>
          <Row label="User agent">{e.userAgent ? <span className="break-all text-xs">{e.userAgent}</span> : "—"}</Row>
        </dl>
      </section>

      <section aria-labelledby="audit-event-chain" className="space-y-2">
        <h3 id="audit-event-chain" className="text-sm font-semibold">
          Hash chain
        </h3>
        {e.chain ? (
          <dl className="grid grid-cols-[9rem_1fr] gap-x-4 gap-y-2 text-sm">
            <Row label="Position" mono>
              {e.chain.position}
            </Row>
            <Row label="Hash" mono>
              <span className="break-all text-xs">{e.chain.hash}</span>
            </Row>
          </dl>
        ) : (
          <p className="text-sm text-fg-muted">Not yet sealed: the sealer links each event into the chain within seconds of its commit.</p>
        )}
      </section>

      <section aria-labelledby="audit-event-payload" className="space-y-2">
        <div className="flex flex-wrap items-center gap-2">
          <h3 id="audit-event-payload" className="text-sm font-semibold">
            Payload
          </h3>
          {typed === true ? <Badge tone="success">matches the {e.action} schema</Badge> : null}
          {typed === false ? <Badge tone="warning">does not match the current {e.action} schema</Badge> : null}
          {typed === null ? <Badge>no schema for this action</Badge> : null}
        </div>
        <pre className="max-h-96 overflow-auto rounded-control border border-border bg-surface-muted p-3 font-mono text-xs leading-relaxed" tabIndex={0} aria-label="Payload as JSON">
          {JSON.stringify(e.payload, null, 2)}
        </pre>
      </section>

      <section aria-labelledby="audit-event-related" className="space-y-2">
        <h3 id="audit-event-related" className="text-sm font-semibold">
          Related events
        </h3>
        <ul className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
          {e.requestId ? <RelatedLink href={filterHref({ requestId: e.requestId })}>Same request</RelatedLink> : null}
          {e.actorId ? <RelatedLink href={filterHref({ actorId: e.actorId })}>Same actor</RelatedLink> : null}
          {e.targetType && e.targetId ? <RelatedLink href={filterHref({ targetType: e.targetType, targetId: e.targetId })}>Same target</RelatedLink> : null}
          {schema ? <RelatedLink href={filterHref({ action: [e.action as TAuditAction] })}>Same action</RelatedLink> : null}
        </ul>
      </section>
    </>
  );
}

function Row({ label, mono, children }: { label: string; mono?: boolean; children: React.ReactNode }) {
  return (
    <>
      <dt className="text-fg-muted">{label}</dt>
      <dd className={mono ? "break-all font-mono text-xs leading-5" : undefined}>{children}</dd>
    </>
  );
}

function RelatedLink({ href, children }: { href: string; children: React.ReactNode }) {
  return (
    <li>
      <Link href={href} prefetch={false} className="font-medium text-accent underline-offset-4 hover:underline">
        {children}
      </Link>
    </li>
  );
}
