import "server-only";
import { Prisma } from "@/lib/db/generated/client";
import type { TTx } from "@/lib/db/types";
import { ZAuditEventDto, type TAuditEventDto } from "./schemas";
import { AUDIT_EVENT_COLUMNS, toChainEvent, type TAuditEventRow } from "./to-chain-event";

type TRow = TAuditEventRow & { chain_position: string | null; chain_hash: string | null };

/**
 * Audit events with their chain link (if sealed yet), newest first. Raw SQL because the
 * reference search needs a jsonpath predicate Prisma cannot express; 64-bit numbers come
 * back as text so nothing is rounded on the way. Each row is parsed through the DTO schema.
 */
export async function selectAuditEvents(tx: TTx, where: Prisma.Sql[], limit: number): Promise<TAuditEventDto[]> {
  const rows = await tx.$queryRaw<TRow[]>`
    SELECT ${Prisma.raw(AUDIT_EVENT_COLUMNS)}, c.position::text AS chain_position, c.hash AS chain_hash
      FROM audit_event e
      LEFT JOIN audit_chain c ON c.event_seq = e.seq
     WHERE ${where.length ? Prisma.join(where, " AND ") : Prisma.sql`TRUE`}
     ORDER BY e.seq DESC
     LIMIT ${limit}`;
  return rows.map(toAuditEventDto);
}

function toAuditEventDto(row: TRow): TAuditEventDto {
  // The same field mapping the chain seals, with the time kept as a Date for the page.
  return ZAuditEventDto.parse({
    ...toChainEvent(row),
    occurredAt: row.occurred_at,
    chain: row.chain_position !== null && row.chain_hash !== null ? { position: row.chain_position, hash: row.chain_hash } : null,
  });
}
