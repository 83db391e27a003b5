import type { Metadata } from "next";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { Badge, Table, Td, Th } from "@/components/ui/table";
import { listAuditEvents } from "@/lib/audit/list-audit-events";
import { requirePageActor } from "@/lib/auth/current-actor";
import { formatTimestamp } from "@/lib/format";

export const metadata: Metadata = { title: "Audit" };

const OUTCOME_TONE = { ok: "success", denied: "warning", error: "danger" } as const;

export default async function AuditPage() {
  const actor = await requirePageActor("audit.read");
  const events = await listAuditEvents({ actor });
  return (
    <>
      <PageHeader title="Audit trail" description="Every action taken in Tether, newest first, written in the same transaction as the action." />
      {events.length === 0 ? (
        <EmptyState title="No events yet" />
      ) : (
        <Table label="Audit events">
          <thead>
            <tr>
              <Th>#</Th>
              <Th>Time</Th>
              <Th>Actor</Th>
              <Th>Action</Th>
              <Th>Target</Th>
              <Th>Outcome</Th>
              <Th>Reason</Th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id}>
                <Td className="font-mono text-xs">{e.seq.toString()}</Td>
                <Td className="whitespace-nowrap text-xs">{formatTimestamp(e.occurredAt)}</Td>
                <Td className="text-xs">
                  {e.actorType}
                  {e.actorRole ? ` · ${e.actorRole}` : ""}
                  <br />
                  <span className="font-mono text-fg-muted">{e.actorId}</span>
                </Td>
                <Td className="font-mono text-xs">{e.action}</Td>
                <Td className="font-mono text-xs">{e.targetType ? `${e.targetType}:${e.targetId}` : "—"}</Td>
                <Td>
                  <Badge tone={OUTCOME_TONE[e.outcome]}>{e.outcome}</Badge>
                </Td>
                <Td className="text-xs">{e.reason ?? ""}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}
