import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { assertCanBulk } from "./bulk-rights";
import { loadBulkActionDto, parseBulkActionId } from "./get-bulk-action";
import { bulkStateConflict, lockBulkAction } from "./lock-bulk-action";
import { ZBulkCloseInput, type TBulkActionDto } from "./schemas";

/**
 * Stops a bulk action that has not finished (awaiting approval, approved, or running), with a
 * reason: the requester withdrawing it, or any reviewer or admin. A running job stops at its next
 * chunk boundary: this takes the job row's lock, which each chunk holds while it commits, so the
 * handles already done stay done and no further one is touched. Audited as `bulk.cancelled` with
 * how many items had been processed; a finished action is a 409.
 */
export async function cancelBulkAction(input: { actor: TActor; data: unknown }): Promise<TBulkActionDto> {
  const { actor } = input;
  assertCanBulk(actor, "revoke");
  const raw = input.data && typeof input.data === "object" ? (input.data as Record<string, unknown>) : {};
  const id = parseBulkActionId(raw.id);
  const parsed = ZBulkCloseInput.safeParse({ ...raw, id });
  if (!parsed.success) throw invalidInput(parsed.error);
  const { reason } = parsed.data;
  if (actor.type === "system") throw new AppError("FORBIDDEN", "A bulk action is stopped by a person or an agent.");
  await getPrisma().$transaction(async (tx) => {
    const bulk = await lockBulkAction(tx, id);
    assertCanBulk(actor, bulk.kind);
    if (!["awaiting_approval", "approved", "running"].includes(bulk.status)) throw bulkStateConflict(bulk.status, "only an unfinished action can be cancelled");
    await tx.$executeRaw`
      UPDATE bulk_action SET status = 'cancelled', closed_by_id = ${actor.id}::uuid, closed_at = now(), close_reason = ${reason},
             finished_at = now(), lease_owner = NULL, lease_until = NULL, updated_at = now()
       WHERE id = ${id}::uuid`;
    await recordAuditEvent(tx, {
      actor,
      action: "bulk.cancelled",
      target: { type: "bulk_action", id },
      reason,
      payload: { kind: bulk.kind, count: bulk.count, processed: bulk.processed, from: bulk.status },
    });
  });
  return loadBulkActionDto(id);
}
