import type { Metadata } from "next";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { Badge, Table, Td, Th } from "@/components/ui/table";
import { requirePageActor } from "@/lib/auth/current-actor";
import { formatRelative, formatTimestamp } from "@/lib/format";
import { listRecentHandles } from "@/lib/handles/list-recent-handles";

export const metadata: Metadata = { title: "Handles" };

const STATUS_TONE = { working: "accent", input_required: "warning", completed: "success", failed: "danger", cancelled: "neutral", expired_upstream: "neutral" } as const;

export default async function HandlesPage() {
  const actor = await requirePageActor("handles.read");
  const handles = await listRecentHandles({ actor });
  const now = new Date();
  return (
    <>
      <PageHeader title="Handles" description="Every task handle Tether has minted, with the principal, server and lifetime it is bound to." />
      {handles.length === 0 ? (
        <EmptyState title="No handles yet">
          Handles appear here when an agent starts a task through the gateway at <code className="font-mono">/mcp/&lt;server&gt;</code>.
        </EmptyState>
      ) : (
        <Table label="Handles">
          <thead>
            <tr>
              <Th>Accessor</Th>
              <Th>Server</Th>
              <Th>Owner</Th>
              <Th>Tool</Th>
              <Th>Status</Th>
              <Th>Created</Th>
              <Th>Expires</Th>
            </tr>
          </thead>
          <tbody>
            {handles.map((h) => (
              <tr key={h.accessor}>
                <Td className="font-mono text-xs">{h.accessor}</Td>
                <Td>{h.server.slug}</Td>
                <Td>{h.principal.name}</Td>
                <Td className="font-mono text-xs">{h.toolName}</Td>
                <Td>
                  <Badge tone={h.revokedAt ? "danger" : STATUS_TONE[h.status]}>{h.revokedAt ? "revoked" : h.status.replace("_", " ")}</Badge>
                  {h.statusMessage ? <p className="mt-1 text-xs text-fg-muted">{h.statusMessage}</p> : null}
                </Td>
                <Td title={formatTimestamp(h.createdAt)}>{formatRelative(h.createdAt, now)}</Td>
                <Td title={formatTimestamp(h.expiresAt)}>{formatRelative(h.expiresAt, now)}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}
