// Reading the audit trail from tests, and proving that rows were written in the same commit.
import type { TPrismaClient } from "@/lib/db/client";

/** Every audit event recorded under a request id (fabricated actors carry unique ones). */
export function auditEventsOfRequest(prisma: TPrismaClient, requestId: string) {
  return prisma.auditEvent.findMany({ where: { requestId }, orderBy: { seq: "asc" } });
}

/** Every audit event about a target, optionally of one action. */
export function auditEventsFor(prisma: TPrismaClient, targetId: string, action?: string) {
  return prisma.auditEvent.findMany({ where: { targetId, ...(action ? { action } : {}) }, orderBy: { seq: "asc" } });
}

type TTable = "principal" | "console_session" | "audit_event";

/**
 * The id of the transaction that last wrote a row (Postgres `xmin`). Two rows with the same
 * value were written by one transaction, so they committed, or would have rolled back, together.
 */
export async function writerOf(prisma: TPrismaClient, table: TTable, id: string): Promise<string> {
  const rows = await prisma.$queryRawUnsafe<Array<{ xmin: string }>>(`SELECT xmin::text AS xmin FROM ${table} WHERE id = $1::uuid`, id);
  if (rows.length !== 1) throw new Error(`no ${table} row ${id}`);
  return rows[0]!.xmin;
}
