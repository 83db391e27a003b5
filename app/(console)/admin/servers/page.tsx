import type { Metadata } from "next";
import Link from "next/link";
import { AdminSubNav } from "@/components/admin/admin-sub-nav";
import { HealthBadge } from "@/components/servers/health-badge";
import { ServerForm } from "@/components/servers/server-form";
import { ServerManagePanel } from "@/components/servers/server-manage-panel";
import { TaskCapabilities, TaskWireBadges } from "@/components/servers/task-support";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { Badge } from "@/components/ui/table";
import { requirePageActor } from "@/lib/auth/current-actor";
import { formatTimestamp } from "@/lib/format";
import { gatewayBaseUrl } from "@/lib/servers/default-audience";
import { listServers } from "@/lib/servers/list-servers";
import { PROBE_PROBLEM_LABELS, PROBE_PROBLEMS, type TProbeProblem, type TServerDto } from "@/lib/servers/schemas";

export const metadata: Metadata = { title: "Admin · Servers" };

// GET /admin/servers — the server registry: register, edit, re-check, enable or disable, remove (servers.manage).
export default async function AdminServersPage() {
  const actor = await requirePageActor("servers.manage");
  const servers = await listServers({ actor });
  const audienceBase = `${gatewayBaseUrl()}/mcp/`;
  return (
    <>
      <PageHeader
        title="Servers"
        description="The upstream MCP servers agents reach through the gateway. Every save checks the connection first; credentials are stored encrypted and never shown again. Every change is recorded in the audit trail."
      />
      <AdminSubNav current="/admin/servers" role={actor.role} />
      <div className="space-y-6">
        {servers.length === 0 ? (
          <EmptyState title="No servers yet">Register one below. Tether connects to it on save and records its capabilities and tools.</EmptyState>
        ) : (
          servers.map((s) => <ServerCard key={s.id} server={s} audienceBase={audienceBase} />)
        )}
        <ServerForm audienceBase={audienceBase} />
      </div>
    </>
  );
}

function problemLabel(kind: string | null): string | null {
  return kind && (PROBE_PROBLEMS as readonly string[]).includes(kind) ? PROBE_PROBLEM_LABELS[kind as TProbeProblem] : kind;
}

/** What is stored, never a secret: the kind, and for OAuth the client and its token endpoint host. */
function credentialsLabel(s: TServerDto): string {
  if (s.credentials === "bearer") return "bearer token (set)";
  if (s.credentials === "oauth_client_credentials" && s.oauth) return `OAuth client credentials (client ${s.oauth.clientId} at ${hostOf(s.oauth.tokenUrl)}, secret set)`;
  if (s.credentials === "unreadable") return "stored but unreadable (enter them again)";
  return "none";
}

function hostOf(url: string): string {
  return URL.canParse(url) ? new URL(url).host : url;
}

function ServerCard({ server: s, audienceBase }: { server: TServerDto; audienceBase: string }) {
  const titleId = `server-${s.id}`;
  return (
    <section aria-labelledby={titleId} className="rounded-card border border-border bg-surface" data-testid="server-card">
      <div className="flex flex-wrap items-start justify-between gap-3 border-b border-border px-4 py-3">
        <div className="min-w-0 space-y-1">
          <div className="flex flex-wrap items-center gap-2">
            <h2 id={titleId} className="font-semibold">
              {s.name}
            </h2>
            <HealthBadge status={s.health.status} enabled={s.enabled} />
            {s.enabled ? <Badge tone="success">enabled</Badge> : null}
            {s.pollingPaused ? <Badge tone="warning">polling paused</Badge> : null}
            {s.tags.map((t) => (
              <Badge key={t}>{t}</Badge>
            ))}
          </div>
          <p className="break-all font-mono text-xs text-fg-muted">
            /mcp/{s.slug} → {s.url}
          </p>
          <p className="text-xs text-fg-muted">
            Audience <span className="break-all font-mono">{s.audience}</span> · credentials: {credentialsLabel(s)} · registered{" "}
            {formatTimestamp(s.createdAt)}
          </p>
          {!s.enabled && s.health.lastErrorKind ? (
            <p className="text-xs text-danger">
              {problemLabel(s.health.lastErrorKind)}: {s.health.lastError}
            </p>
          ) : null}
        </div>
        <Link href={`/servers/${s.id}`} className="text-sm font-medium text-accent underline-offset-4 hover:underline">
          Details
        </Link>
      </div>
      <div className="grid gap-4 px-4 py-3 sm:grid-cols-3">
        <div>
          <p className="mb-1 text-xs font-medium uppercase tracking-wide text-fg-muted">Task wire</p>
          <TaskWireBadges wires={s.taskWires} checked={s.capabilities !== null} />
        </div>
        <div>
          <p className="mb-1 text-xs font-medium uppercase tracking-wide text-fg-muted">Capabilities</p>
          <TaskCapabilities capabilities={s.capabilities} tools={s.tools} />
        </div>
        <div>
          <p className="mb-1 text-xs font-medium uppercase tracking-wide text-fg-muted">Live handles</p>
          <p className="text-sm">{s.liveHandles.total}</p>
        </div>
      </div>
      <div className="border-t border-border px-4 py-3">
        <ServerManagePanel
          server={{
            id: s.id,
            slug: s.slug,
            name: s.name,
            url: s.url,
            audience: s.audience,
            tags: s.tags,
            pollMinMs: s.pollMinMs,
            pollMaxMs: s.pollMaxMs,
            pollConcurrency: s.pollConcurrency,
            credentials: s.credentials,
            oauth: s.oauth,
          }}
          enabled={s.enabled}
          pollingPaused={s.pollingPaused}
          liveHandles={s.liveHandles.total}
          audienceBase={audienceBase}
        />
      </div>
    </section>
  );
}
