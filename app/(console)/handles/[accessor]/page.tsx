import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { HandleActions } from "@/components/handles/handle-actions";
import { HandleCancelBadge, HandleLifecycleBadge, HandleStatusBadge } from "@/components/handles/handle-status-badge";
import { HandleTimeline } from "@/components/handles/handle-timeline";
import { HandleTtlBar } from "@/components/handles/handle-ttl-bar";
import { LiveRefresh } from "@/components/live/live-refresh";
import { AutoRefresh } from "@/components/servers/auto-refresh";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { actorCan } from "@/lib/auth/assert-can";
import { requirePageActor } from "@/lib/auth/current-actor";
import { isAppError } from "@/lib/errors";
import { formatRelative, formatTimestamp } from "@/lib/format";
import { getHandle } from "@/lib/handles/get-handle";
import type { THandleDetailDto } from "@/lib/handles/handle-detail-schemas";
import { listHandleTimeline } from "@/lib/handles/list-handle-timeline";
import { TASK_WIRE_LABELS } from "@/lib/servers/schemas";

export const metadata: Metadata = { title: "Handle" };

type TActor = Awaited<ReturnType<typeof requirePageActor>>;

async function load(actor: TActor, accessor: string, after: string | undefined) {
  try {
    return await Promise.all([getHandle({ actor, accessor }), listHandleTimeline({ actor, query: { accessor, after } })]);
  } catch (err) {
    // An unknown handle, or an address that is not one (a malformed accessor or cursor): 404.
    if (isAppError(err) && (err.code === "NOT_FOUND" || err.code === "INVALID_INPUT")) notFound();
    throw err;
  }
}

function ttl(ms: number | null): string {
  if (ms === null) return "—";
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 100) / 10} s`;
}

function Facts({ id, title, facts }: { id: string; title: string; facts: Array<[string, React.ReactNode]> }) {
  return (
    <section aria-labelledby={id} className="rounded-card border border-border bg-surface">
      <h2 id={id} className="border-b border-border px-4 py-3 font-semibold">
        {title}
      </h2>
      <dl className="grid gap-x-6 gap-y-3 px-4 py-4 sm:grid-cols-2">
        {facts.map(([label, value]) => (
          <div key={label} className="min-w-0">
            <dt className="text-xs font-medium uppercase tracking-wide text-fg-muted">{label}</dt>
            <dd className="mt-0.5 break-words text-sm">{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function bindingFacts(h: THandleDetailDto): Array<[string, React.ReactNode]> {
  const mono = (v: string) => <span className="break-all font-mono text-xs">{v}</span>;
  return [
    [
      "Owner",
      <>
        {h.principal.name} <span className="text-fg-muted">({h.principal.kind === "service" ? "agent" : h.principal.kind}{h.principal.disabled ? ", disabled" : ""})</span>
      </>,
    ],
    [
      "Session",
      h.session ? (
        <>
          {mono(h.session.id)}
          <span className="block text-xs text-fg-muted">
            {h.session.clientName ? `${h.session.clientName} · ` : ""}started {formatTimestamp(h.session.createdAt)}
            {h.session.endedAt ? ` · ended ${formatTimestamp(h.session.endedAt)} (${h.session.endReason ?? "ended"})` : " · open"}
          </span>
        </>
      ) : h.wire === "ext_2026_07_28" ? (
        <span data-testid="not-session-bound">
          Not session-bound
          <span className="block text-xs text-fg-muted">
            The 2026-07-28 task wire has no sessions, so this handle is bound to its owner, server, policy and the API key that created it instead.
          </span>
        </span>
      ) : (
        "Not bound to a session"
      ),
    ],
    [
      "Server",
      h.server.removed ? (
        `${h.server.name} (removed)`
      ) : (
        <Link href={`/servers/${h.server.id}`} className="text-accent underline-offset-4 hover:underline">
          {h.server.name}
          {h.server.enabled ? "" : " (disabled)"}
        </Link>
      ),
    ],
    ["Audience", mono(h.audience)],
    ["Tool", mono(h.toolName)],
    ["API key", h.apiKey ? <>{mono(h.apiKey.prefix)} {h.apiKey.name}{h.apiKey.revoked ? " (revoked)" : ""}</> : "—"],
    [
      "Policy version",
      <>
        v{h.policy.version}
        <span className="text-fg-muted">
          {h.policy.current !== null && h.policy.current !== h.policy.version ? ` (current: v${h.policy.current})` : ""}
          {h.policy.honoured ? "" : " — no longer honoured"}
        </span>
      </>,
    ],
    ["Task wire", TASK_WIRE_LABELS[h.wire]],
  ];
}

// GET /handles/:accessor — one handle: binding, live status, lifetime, timeline, and the actions the viewer's role allows.
export default async function HandlePage({ params, searchParams }: { params: Promise<{ accessor: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const actor = await requirePageActor("handles.read");
  const { accessor } = await params;
  const after = (await searchParams).after;
  const [h, timeline] = await load(actor, accessor, typeof after === "string" ? after : undefined);
  const now = new Date();
  const canRevoke = actorCan(actor, "handles.revoke");
  const canCancel = actorCan(actor, "handles.cancel");
  const cancelling = h.cancel.state === "requested";

  const statusFacts: Array<[string, React.ReactNode]> = [
    [
      "Status",
      <span key="s" className="flex flex-wrap items-center gap-2">
        <HandleStatusBadge status={h.status} />
        <HandleLifecycleBadge lifecycle={h.lifecycle} />
      </span>,
    ],
    ["Status message", h.statusMessage ?? "—"],
    ["Last status change", `${formatTimestamp(h.lastUpdatedAt)} (${formatRelative(h.lastUpdatedAt, now)})`],
    ["Last confirmed upstream", h.lastPolledAt ? `${formatTimestamp(h.lastPolledAt)} (${formatRelative(h.lastPolledAt, now)})` : "—"],
    ["Uses", `${h.useCount}${h.lastUsedAt ? ` · last ${formatRelative(h.lastUsedAt, now)}` : ""}`],
    [
      "Cancellation",
      <span key="c" className="block space-y-0.5">
        <HandleCancelBadge state={h.cancel.state} />
        {h.cancel.state !== "none" ? (
          <span className="block text-xs text-fg-muted" data-testid="cancel-attempts">
            {h.cancel.attempts} {h.cancel.attempts === 1 ? "attempt" : "attempts"}
            {h.cancel.requestedAt ? ` · requested ${formatTimestamp(h.cancel.requestedAt)}` : ""}
            {h.cancel.state === "unreachable"
              ? h.cancel.nextAttemptAt
                ? ` · next retry ${formatRelative(h.cancel.nextAttemptAt, now)}`
                : " · no more retries"
              : ""}
          </span>
        ) : null}
      </span>,
    ],
  ];
  if (h.revocation) {
    statusFacts.push([
      "Revoked",
      <span key="r" className="block">
        {formatTimestamp(h.revocation.at)} by {h.revocation.by?.name ?? "Tether"} · trigger {h.revocation.trigger ?? "manual"}
        {h.revocation.reason ? <span className="block text-xs text-fg-muted">Reason: {h.revocation.reason}</span> : null}
      </span>,
    ]);
  }

  return (
    <>
      {/* Live status: the page re-renders from the database every few seconds. */}
      <AutoRefresh seconds={5} />
      <LiveRefresh topics={["handle"]} accessor={h.accessor} />
      <p className="mb-2 text-sm">
        <Link href="/handles" className="text-accent underline-offset-4 hover:underline">
          ← Handles
        </Link>
      </p>
      <PageHeader title={h.accessor} description={`${h.toolName} at ${h.server.name}, held by ${h.principal.name}.`} />
      <div className="space-y-6">
        {canRevoke || canCancel ? (
          <section aria-labelledby="handle-actions" className="rounded-card border border-border bg-surface p-4">
            <h2 id="handle-actions" className="mb-3 font-semibold">
              Actions
            </h2>
            {h.lifecycle === "live" || (h.lifecycle === "terminal" && canRevoke) ? null : (
              <p className="mb-2 text-sm text-fg-muted">
                {h.lifecycle === "terminal" ? "The task has ended" : `This handle is ${h.lifecycle}`}: there is nothing left to {canRevoke ? "revoke or cancel" : "cancel"}.
              </p>
            )}
            {cancelling ? <p className="mb-2 text-sm text-fg-muted">A cancel is in progress.</p> : null}
            <HandleActions
              accessor={h.accessor}
              canCancel={canCancel && h.lifecycle === "live" && !cancelling}
              canRevoke={canRevoke && (h.lifecycle === "live" || h.lifecycle === "terminal")}
              primary={canRevoke ? "revoke" : "cancel"}
            />
          </section>
        ) : null}

        <Facts id="handle-status" title="Status" facts={statusFacts} />

        <section aria-labelledby="handle-lifetime" className="rounded-card border border-border bg-surface p-4">
          <h2 id="handle-lifetime" className="mb-3 font-semibold">
            Lifetime
          </h2>
          <HandleTtlBar createdAt={h.createdAt} expiresAt={h.expiresAt} now={now} ended={h.lifecycle !== "live" && h.lifecycle !== "terminal"} />
          <dl className="mt-3 grid gap-x-6 gap-y-2 text-sm sm:grid-cols-4">
            {(
              [
                ["Issued", formatTimestamp(h.createdAt)],
                ["TTL requested", ttl(h.ttl.requestedMs)],
                ["TTL upstream", ttl(h.ttl.upstreamMs)],
                ["TTL effective", ttl(h.ttl.effectiveMs)],
              ] as const
            ).map(([label, value]) => (
              <div key={label}>
                <dt className="text-xs font-medium uppercase tracking-wide text-fg-muted">{label}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
        </section>

        <Facts id="handle-binding" title="Binding" facts={bindingFacts(h)} />

        <section aria-labelledby="handle-timeline" className="space-y-3">
          <h2 id="handle-timeline" className="font-semibold">
            Timeline
          </h2>
          {timeline.events.length === 0 ? (
            <EmptyState title={after ? "No later events" : "No events yet"}>
              {after ? (
                <Link href={`/handles/${h.accessor}`} className="text-accent underline-offset-4 hover:underline">
                  Back to the first events
                </Link>
              ) : (
                "Events appear as the handle is used."
              )}
            </EmptyState>
          ) : (
            <HandleTimeline events={timeline.events} />
          )}
          {timeline.nextCursor || after ? (
            <nav aria-label="Timeline pages" className="flex gap-4 text-sm">
              {after ? (
                <Link href={`/handles/${h.accessor}`} className="text-accent underline-offset-4 hover:underline">
                  ← First events
                </Link>
              ) : null}
              {timeline.nextCursor ? (
                <Link href={`/handles/${h.accessor}?after=${timeline.nextCursor}`} className="text-accent underline-offset-4 hover:underline">
                  Later events →
                </Link>
              ) : null}
            </nav>
          ) : null}
        </section>
      </div>
    </>
  );
}
