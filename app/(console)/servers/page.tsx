import type { Metadata } from "next";
import Link from "next/link";
import { LiveRefresh } from "@/components/live/live-refresh";
import { AutoRefresh } from "@/components/servers/auto-refresh";
import { HealthBadge } from "@/components/servers/health-badge";
import { HealthSparkline } from "@/components/servers/health-sparkline";
import { TaskCapabilities, TaskWireBadges } from "@/components/servers/task-support";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { Badge, Table, Td, Th } from "@/components/ui/table";
import { actorCan } from "@/lib/auth/assert-can";
import { requirePageActor } from "@/lib/auth/current-actor";
import { formatRelative, formatTimestamp } from "@/lib/format";
import { listServers } from "@/lib/servers/list-servers";
import { PROBE_PROBLEM_LABELS, PROBE_PROBLEMS, type TProbeProblem, type TServerDto } from "@/lib/servers/schemas";

export const metadata: Metadata = { title: "Servers" };

// GET /servers — every registered upstream with its health, task support and live handles (servers.read).
export default async function ServersPage() {
  const actor = await requirePageActor("servers.read");
  const servers = await listServers({ actor });
  const canManage = actorCan(actor, "servers.manage");
  const now = new Date();
  return (
    <>
      <AutoRefresh seconds={15} />
      <LiveRefresh topics={["server", "handle"]} />
      <PageHeader
        title="Servers"
        description="Upstream MCP servers behind the gateway: agents reach each one at /mcp/<slug>. Tether checks every enabled server's health in the background; this page refreshes itself."
        actions={
          canManage ? (
            <Link href="/admin/servers" className="inline-flex h-9 items-center rounded-control bg-accent px-3.5 text-sm font-medium text-accent-fg hover:opacity-90">
              Manage servers
            </Link>
          ) : null
        }
      />
      {servers.length === 0 ? (
        <EmptyState title="No servers registered">
          {canManage ? (
            <>
              <Link href="/admin/servers" className="font-medium text-accent underline-offset-4 hover:underline">
                Register an upstream MCP server
              </Link>
              ; agents then reach it through the gateway.
            </>
          ) : (
            "An administrator registers upstream MCP servers; agents then reach them through the gateway."
          )}
        </EmptyState>
      ) : (
        <Table label="Servers">
          <thead>
            <tr>
              <Th>Server</Th>
              <Th>Health</Th>
              <Th>Task wire</Th>
              <Th>Task capabilities</Th>
              <Th>Live handles</Th>
              <Th>Status sync</Th>
            </tr>
          </thead>
          <tbody>
            {servers.map((s) => (
              <ServerRow key={s.id} server={s} now={now} />
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}

function problemLabel(kind: string | null): string {
  return kind && (PROBE_PROBLEMS as readonly string[]).includes(kind) ? `${PROBE_PROBLEM_LABELS[kind as TProbeProblem]}: ` : "";
}

function ServerRow({ server: s, now }: { server: TServerDto; now: Date }) {
  const statuses = Object.entries(s.liveHandles.byStatus).sort(([, a], [, b]) => b - a);
  return (
    <tr data-testid="server-row" data-slug={s.slug}>
      <Td>
        <Link href={`/servers/${s.id}`} className="font-medium text-fg underline-offset-4 hover:underline">
          {s.name}
        </Link>
        <p className="font-mono text-xs text-fg-muted">{s.gatewayPath}</p>
        {s.serverInfo ? (
          <p className="text-xs text-fg-muted">
            {s.serverInfo.title ?? s.serverInfo.name} {s.serverInfo.version}
            {s.protocolVersion ? ` · MCP ${s.protocolVersion}` : ""}
          </p>
        ) : null}
        {s.tags.length ? (
          <p className="mt-1 flex flex-wrap gap-1">
            {s.tags.map((t) => (
              <Badge key={t}>{t}</Badge>
            ))}
          </p>
        ) : null}
      </Td>
      <Td>
        <div className="flex items-center gap-2">
          <HealthBadge status={s.health.status} enabled={s.enabled} />
          {s.enabled && s.health.latencyMs !== null ? <span className="text-xs text-fg-muted">{s.health.latencyMs} ms</span> : null}
          {s.pollingPaused ? <Badge tone="warning">polling paused</Badge> : null}
        </div>
        {s.enabled ? (
          <div className="mt-1.5">
            <HealthSparkline checks={s.health.recent} />
          </div>
        ) : null}
        <p className="mt-1 text-xs text-fg-muted" title={formatTimestamp(s.health.lastCheckedAt)}>
          {s.health.lastCheckedAt ? `checked ${formatRelative(s.health.lastCheckedAt, now)}` : "never checked"}
        </p>
        {s.health.lastError ? (
          <p className="mt-1 max-w-xs text-xs text-danger">
            {problemLabel(s.health.lastErrorKind)}
            {s.health.lastError}
          </p>
        ) : null}
      </Td>
      <Td>
        <TaskWireBadges wires={s.taskWires} checked={s.capabilities !== null} />
      </Td>
      <Td>
        <TaskCapabilities capabilities={s.capabilities} tools={s.tools} />
      </Td>
      <Td>
        <p className="font-medium">{s.liveHandles.total}</p>
        {statuses.length ? (
          <ul className="text-xs text-fg-muted">
            {statuses.map(([status, n]) => (
              <li key={status}>
                {n} {status.replace("_", " ")}
              </li>
            ))}
          </ul>
        ) : null}
      </Td>
      <Td>
        {s.sync.oldestRunningAt ? (
          <div className="space-y-0.5 text-xs text-fg-muted">
            <p title="95th percentile of the time since each running task's status was last confirmed upstream">
              poll lag p95 <span className="font-medium text-fg">{formatLag(s.sync.pollLagP95Ms)}</span>, max {formatLag(s.sync.pollLagMaxMs)}
            </p>
            <p title={formatTimestamp(s.sync.oldestRunningAt)}>oldest running: {formatRelative(s.sync.oldestRunningAt, now)}</p>
            {s.pollingPaused ? <p className="text-warning">polling paused</p> : null}
            {s.sync.failingPolls > 0 ? <p className="text-danger">{s.sync.failingPolls} failing polls (backing off)</p> : null}
          </div>
        ) : (
          <p className="text-xs text-fg-muted">no running tasks</p>
        )}
      </Td>
    </tr>
  );
}

function formatLag(ms: number | null): string {
  if (ms === null) return "—";
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}
