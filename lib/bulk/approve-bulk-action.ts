import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { AppError } from "@/lib/errors";
import { assertCanBulk } from "./bulk-rights";
import { loadBulkActionDto, parseBulkActionId } from "./get-bulk-action";
import { bulkStateConflict, lockBulkAction } from "./lock-bulk-action";
import type { TBulkActionDto } from "./schemas";

/**
 * The two-person rule: a bulk action above TETHER_BULK_APPROVAL_THRESHOLD runs only once a second
 * reviewer or admin approves it. The requester cannot approve their own (403); an action that is
 * not awaiting approval is a 409 naming its state. Of two approvers at once, one approves (one
 * `bulk.approved`); the other gets the 409. The bulk worker starts it within a second.
 */
export async function approveBulkAction(input: { actor: TActor; id: unknown }): Promise<TBulkActionDto> {
  const { actor } = input;
  assertCanBulk(actor, "revoke");
  const id = parseBulkActionId(input.id);
  await getPrisma().$transaction(async (tx) => {
    const bulk = await lockBulkAction(tx, id);
    assertCanBulk(actor, bulk.kind);
    if (actor.type === "system" || bulk.requestedById === actor.id) {
      throw new AppError("FORBIDDEN", "Two-person rule: you requested this bulk action, so another reviewer or admin must approve it.");
    }
    if (bulk.status !== "awaiting_approval") throw bulkStateConflict(bulk.status, "only an action awaiting approval can be approved");
    await tx.$executeRaw`
      UPDATE bulk_action SET status = 'approved', approved_by_id = ${actor.id}::uuid, approved_at = now(), updated_at = now() WHERE id = ${id}::uuid`;
    await recordAuditEvent(tx, {
      actor,
      action: "bulk.approved",
      target: { type: "bulk_action", id },
      payload: { kind: bulk.kind, count: bulk.count, requestedBy: bulk.requestedById },
    });
  });
  return loadBulkActionDto(id);
}
