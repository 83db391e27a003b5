import "server-only";
import { randomUUID } from "node:crypto";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { systemActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";

const BATCH = 500;

/**
 * Marks handles whose TTL has run out (`expired_at`), one `handle.expired` event each, in the
 * same transaction. The gateway refuses an expired handle whether or not this has run; the mark
 * is for the inventory and the reports. Rows are claimed with SKIP LOCKED, so several console
 * instances sweep side by side without marking a handle twice. Returns how many it marked.
 */
export async function sweepExpiredHandles(options: { batch?: number } = {}): Promise<number> {
  const actor = systemActor("expiry-sweeper", `sweep-${randomUUID()}`);
  return getPrisma().$transaction(async (tx) => {
    const rows = await tx.$queryRaw<Array<{ id: string; accessor: string; expiresAt: Date }>>`
      UPDATE handle SET expired_at = now()
       WHERE id IN (SELECT id FROM handle WHERE expired_at IS NULL AND expires_at <= now()
                     ORDER BY expires_at LIMIT ${options.batch ?? BATCH} FOR UPDATE SKIP LOCKED)
      RETURNING id::text AS id, accessor, expires_at AS "expiresAt"`;
    for (const row of rows) {
      await recordAuditEvent(tx, {
        actor,
        action: "handle.expired",
        target: { type: "handle", id: row.id },
        payload: { accessor: row.accessor, expiredAt: row.expiresAt.toISOString() },
      });
    }
    return rows.length;
  });
}
