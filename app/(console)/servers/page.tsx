import type { Metadata } from "next";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { Badge, Table, Td, Th } from "@/components/ui/table";
import { requirePageActor } from "@/lib/auth/current-actor";
import { formatTimestamp } from "@/lib/format";
import { listServers } from "@/lib/servers/list-servers";

export const metadata: Metadata = { title: "Servers" };

const HEALTH_TONE = { unknown: "neutral", up: "success", degraded: "warning", down: "danger" } as const;

export default async function ServersPage() {
  const actor = await requirePageActor("servers.read");
  const servers = await listServers({ actor });
  return (
    <>
      <PageHeader title="Servers" description="Upstream MCP servers behind the gateway. Agents reach each one at /mcp/<slug>." />
      {servers.length === 0 ? (
        <EmptyState title="No servers registered">An administrator registers upstream MCP servers; agents then reach them through the gateway.</EmptyState>
      ) : (
        <Table label="Servers">
          <thead>
            <tr>
              <Th>Server</Th>
              <Th>Gateway path</Th>
              <Th>Audience</Th>
              <Th>Health</Th>
              <Th>Handles</Th>
              <Th>Last checked</Th>
            </tr>
          </thead>
          <tbody>
            {servers.map((s) => (
              <tr key={s.id}>
                <Td>
                  <p className="font-medium">{s.name}</p>
                  <p className="text-xs text-fg-muted">{s.tags.join(", ")}</p>
                </Td>
                <Td className="font-mono text-xs">/mcp/{s.slug}</Td>
                <Td className="font-mono text-xs">{s.audience}</Td>
                <Td>
                  <Badge tone={s.enabled ? HEALTH_TONE[s.health] : "neutral"}>{s.enabled ? s.health : "disabled"}</Badge>
                </Td>
                <Td>{s._count.handles}</Td>
                <Td>{formatTimestamp(s.lastCheckedAt)}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}
