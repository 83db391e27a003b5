import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { ZRevokeHandleInput, type TRevokedHandleDto } from "./schemas";

/**
 * A reviewer or admin revokes one handle, with a reason. It takes effect for the very next
 * gateway call: the gateway reads the handle row on every use and caches nothing.
 */
export async function revokeHandle(input: { actor: TActor; data: unknown }): Promise<TRevokedHandleDto> {
  const { actor } = input;
  assertCan(actor, "handles.read");
  const parsed = ZRevokeHandleInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { accessor, reason } = parsed.data;
  const db = getPrisma();
  const handle = await db.handle.findUnique({ where: { accessor }, select: { id: true, serverId: true } });
  if (!handle) throw new AppError("NOT_FOUND", "No such handle.");
  assertCan(actor, "handles.revoke");

  return db.$transaction(async (tx) => {
    const revokedById = actor.type === "system" ? null : actor.id;
    // Guarded in SQL: of two reviewers revoking at once, one does it and the other gets 409.
    const rows = await tx.$queryRaw<Array<{ revokedAt: Date }>>`
      UPDATE handle SET revoked_at = now(), revoked_by_id = ${revokedById}::uuid, revoke_reason = ${reason}, revoke_trigger = 'manual'
       WHERE id = ${handle.id}::uuid AND revoked_at IS NULL
      RETURNING revoked_at AS "revokedAt"`;
    const row = rows[0];
    if (!row) throw new AppError("INVALID_STATE", "This handle is already revoked.");
    await recordAuditEvent(tx, {
      actor,
      action: "handle.revoked",
      target: { type: "handle", id: handle.id },
      reason,
      payload: { accessor, trigger: "manual", serverId: handle.serverId },
    });
    return { accessor, revokedAt: row.revokedAt.toISOString(), revokeReason: reason, revokeTrigger: "manual" };
  });
}
