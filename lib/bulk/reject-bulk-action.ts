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
 * A second reviewer or admin turns down a bulk action awaiting approval, with a reason: it never
 * runs. The requester withdraws their own by cancelling it instead (403 here). Audited as
 * `bulk.rejected` in the same transaction; any other state is a 409.
 */
export async function rejectBulkAction(input: { actor: TActor; data: unknown }): Promise<TBulkActionDto> {
  const { actor } = input;
  assertCanBulk(actor, "revoke");
  const raw = input.data && typeof input.data === "object" ? (input.data as Record<string, unknown>) : {};
  const id = parseBulkActionId(raw.id);
  const parsed = ZBulkCloseInput.safeParse({ ...raw, id });
  if (!parsed.success) throw invalidInput(parsed.error);
  const { reason } = parsed.data;
  await getPrisma().$transaction(async (tx) => {
    const bulk = await lockBulkAction(tx, id);
    assertCanBulk(actor, bulk.kind);
    if (actor.type === "system" || bulk.requestedById === actor.id) {
      throw new AppError("FORBIDDEN", "You requested this bulk action: cancel it to withdraw it. Rejecting is for another reviewer or admin.");
    }
    if (bulk.status !== "awaiting_approval") throw bulkStateConflict(bulk.status, "only an action awaiting approval can be rejected");
    await tx.$executeRaw`
      UPDATE bulk_action SET status = 'rejected', closed_by_id = ${actor.id}::uuid, closed_at = now(), close_reason = ${reason},
             finished_at = now(), updated_at = now()
       WHERE id = ${id}::uuid`;
    await recordAuditEvent(tx, {
      actor,
      action: "bulk.rejected",
      target: { type: "bulk_action", id },
      reason,
      payload: { kind: bulk.kind, count: bulk.count, requestedBy: bulk.requestedById },
    });
  });
  return loadBulkActionDto(id);
}
