import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { LiveRefresh } from "@/components/live/live-refresh";
import { AutoRefresh } from "@/components/servers/auto-refresh";
import { HealthBadge } from "@/components/servers/health-badge";
import { HealthSparkline } from "@/components/servers/health-sparkline";
import { TaskCapabilities, TaskWireBadges } from "@/components/servers/task-support";
import { PageHeader } from "@/components/ui/page-header";
import { Badge, Table, Td, Th } from "@/components/ui/table";
import { actorCan } from "@/lib/auth/assert-can";
import { requirePageActor } from "@/lib/auth/current-actor";
import { isAppError } from "@/lib/errors";
import { formatTimestamp } from "@/lib/format";
import { getServer } from "@/lib/servers/get-server";
import type { TServerDto } from "@/lib/servers/schemas";

export const metadata: Metadata = { title: "Server" };

const SUPPORT_TONE = { required: "accent", optional: "success", forbidden: "neutral" } as const;
// Task tools first: they are the ones Tether governs.
const SUPPORT_ORDER = { required: 0, optional: 1, forbidden: 2 } as const;

async function load(actor: Awaited<ReturnType<typeof requirePageActor>>, id: string): Promise<TServerDto> {
  try {
    return await getServer({ actor, serverId: id });
  } catch (err) {
    if (isAppError(err) && err.code === "NOT_FOUND") notFound();
    throw err;
  }
}

// GET /servers/:id — one server: what it declared (capabilities, tools and their task support) and its recent health.
export default async function ServerPage({ params }: { params: Promise<{ id: string }> }) {
  const actor = await requirePageActor("servers.read");
  const s = await load(actor, (await params).id);
  const facts: Array<[string, React.ReactNode]> = [
    ["Gateway path", <span key="p" className="font-mono">{s.gatewayPath}</span>],
    ["Upstream URL", <span key="u" className="break-all font-mono">{s.url}</span>],
    ["Audience", <span key="a" className="break-all font-mono">{s.audience}</span>],
    [
      "Upstream credentials",
      s.credentials === "bearer"
        ? "Bearer token (set, never shown)"
        : s.credentials === "oauth_client_credentials" && s.oauth
          ? `OAuth client credentials: client ${s.oauth.clientId} at ${s.oauth.tokenUrl}${s.oauth.scope ? `, scope ${s.oauth.scope}` : ""} (secret set, never shown)`
          : s.credentials === "unreadable"
            ? "Stored, but they no longer decrypt"
            : "None",
    ],
    ["Server", s.serverInfo ? `${s.serverInfo.title ?? s.serverInfo.name} ${s.serverInfo.version}` : "—"],
    ["MCP protocol", s.protocolVersion ?? "—"],
    ["Polling", `every ${s.pollMinMs}–${s.pollMaxMs} ms, at most ${s.pollConcurrency} at once${s.pollingPaused ? " (paused)" : ""}`],
    ["Registered", formatTimestamp(s.createdAt)],
  ];
  const other = s.capabilities ? (["tools", "resources", "prompts", "logging", "completions"] as const).filter((k) => s.capabilities![k]) : [];
  return (
    <>
      <AutoRefresh seconds={15} />
      <LiveRefresh topics={["server", "handle"]} serverId={s.id} />
      <p className="mb-2 text-sm">
        <Link href="/servers" className="text-accent underline-offset-4 hover:underline">
          ← Servers
        </Link>
      </p>
      <PageHeader
        title={s.name}
        description={s.enabled ? "Enabled: agents reach it through the gateway." : "Disabled: the gateway refuses every call to it and it is not health-checked."}
        actions={
          actorCan(actor, "servers.manage") ? (
            <Link href="/admin/servers" className="text-sm font-medium text-accent underline-offset-4 hover:underline">
              Manage in Admin › Servers
            </Link>
          ) : null
        }
      />
      <div className="space-y-6">
        <section aria-labelledby="server-facts" className="rounded-card border border-border bg-surface">
          <h2 id="server-facts" className="border-b border-border px-4 py-3 font-semibold">
            Registration
          </h2>
          <dl className="grid gap-x-6 gap-y-3 px-4 py-4 sm:grid-cols-2">
            {facts.map(([label, value]) => (
              <div key={label} className="min-w-0">
                <dt className="text-xs font-medium uppercase tracking-wide text-fg-muted">{label}</dt>
                <dd className="mt-0.5 text-sm">{value}</dd>
              </div>
            ))}
          </dl>
        </section>

        <section aria-labelledby="server-health" className="rounded-card border border-border bg-surface p-4">
          <h2 id="server-health" className="mb-3 font-semibold">
            Health
          </h2>
          <div className="flex flex-wrap items-center gap-4">
            <HealthBadge status={s.health.status} enabled={s.enabled} />
            <HealthSparkline checks={s.health.recent} />
            <p className="text-sm text-fg-muted">
              {s.health.latencyMs !== null ? `${s.health.latencyMs} ms · ` : ""}last checked {formatTimestamp(s.health.lastCheckedAt)}
              {s.health.consecutiveFailures > 0 ? ` · ${s.health.consecutiveFailures} failed in a row` : ""}
            </p>
          </div>
          {s.health.lastError ? <p className="mt-2 text-sm text-danger">{s.health.lastError}</p> : null}
          {s.health.recent.length ? (
            <div className="mt-4">
              <Table label="Recent health checks">
                <thead>
                  <tr>
                    <Th>When (UTC)</Th>
                    <Th>Outcome</Th>
                    <Th>Status after</Th>
                    <Th>Latency</Th>
                  </tr>
                </thead>
                <tbody>
                  {s.health.recent.toReversed().slice(0, 10).map((c, i) => (
                    <tr key={`${c.at.toISOString()}-${i}`}>
                      <Td className="whitespace-nowrap text-xs">{formatTimestamp(c.at)}</Td>
                      <Td className="text-xs">{c.ok ? "answered" : `failed (${c.errorKind ?? "error"})`}</Td>
                      <Td>
                        <HealthBadge status={c.status} enabled />
                      </Td>
                      <Td className="text-xs">{c.latencyMs === null ? "—" : `${c.latencyMs} ms`}</Td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            </div>
          ) : null}
        </section>

        <section aria-labelledby="server-capabilities" className="rounded-card border border-border bg-surface p-4">
          <h2 id="server-capabilities" className="mb-3 font-semibold">
            Capabilities
          </h2>
          <div className="flex flex-wrap items-start gap-6">
            <div>
              <p className="mb-1 text-xs font-medium uppercase tracking-wide text-fg-muted">Task wire</p>
              <TaskWireBadges wires={s.taskWires} checked={s.capabilities !== null} />
            </div>
            <div>
              <p className="mb-1 text-xs font-medium uppercase tracking-wide text-fg-muted">Tasks</p>
              <TaskCapabilities capabilities={s.capabilities} tools={s.tools} />
            </div>
            <div>
              <p className="mb-1 text-xs font-medium uppercase tracking-wide text-fg-muted">Also</p>
              <p className="text-xs">{other.length ? other.join(", ") : "—"}</p>
              {s.capabilities?.extensions.length ? <p className="text-xs text-fg-muted">extensions: {s.capabilities.extensions.join(", ")}</p> : null}
            </div>
          </div>
        </section>

        <section aria-labelledby="server-tools" className="space-y-3">
          <h2 id="server-tools" className="font-semibold">
            Tools
          </h2>
          {s.tools && s.tools.length ? (
            <Table label="Tools">
              <thead>
                <tr>
                  <Th>Tool</Th>
                  <Th>Task support</Th>
                  <Th>Description</Th>
                </tr>
              </thead>
              <tbody>
                {s.tools.toSorted((a, b) => SUPPORT_ORDER[a.taskSupport] - SUPPORT_ORDER[b.taskSupport] || a.name.localeCompare(b.name)).map((t) => (
                  <tr key={t.name}>
                    <Td className="whitespace-nowrap font-mono text-xs">{t.name}</Td>
                    <Td>
                      <Badge tone={SUPPORT_TONE[t.taskSupport]}>{t.taskSupport}</Badge>
                    </Td>
                    <Td className="text-xs text-fg-muted">{t.description ?? ""}</Td>
                  </tr>
                ))}
              </tbody>
            </Table>
          ) : (
            <p className="text-sm text-fg-muted">{s.tools ? "The server declares no tools." : "Not checked yet."}</p>
          )}
        </section>
      </div>
    </>
  );
}
