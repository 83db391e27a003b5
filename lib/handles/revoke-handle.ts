import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { invalidInput } from "@/lib/errors";
import { settleGatewayCache } from "@/lib/gateway/gateway-cache";
import { handleNotFound } from "./get-handle";
import { handleStateConflict, handleStateOf } from "./handle-state";
import { ZRevokeHandleInput, type TRevokedHandleDto } from "./schemas";

/**
 * A reviewer or admin revokes one handle, with a reason. It takes effect for the very next
 * gateway call: the gateway reads the handle row on every use and caches nothing. A handle
 * already revoked or already expired is a 409 naming its state.
 */
export async function revokeHandle(input: { actor: TActor; data: unknown }): Promise<TRevokedHandleDto> {
  const { actor } = input;
  assertCan(actor, "handles.read");
  const parsed = ZRevokeHandleInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { accessor, reason } = parsed.data;
  const db = getPrisma();
  const handle = await db.handle.findUnique({ where: { accessor }, select: { id: true, serverId: true } });
  if (!handle) throw handleNotFound();
  assertCan(actor, "handles.revoke");

  const revoked = await db.$transaction(async (tx) => {
    const revokedById = actor.type === "system" ? null : actor.id;
    // Guarded in SQL: of two reviewers revoking at once, one does it; the other waits for the
    // row lock, then sees it revoked and gets 409 with that final state.
    const rows = await tx.$queryRaw<Array<{ revokedAt: Date }>>`
      UPDATE handle SET revoked_at = now(), revoked_by_id = ${revokedById}::uuid, revoke_reason = ${reason}, revoke_trigger = 'manual'
       WHERE id = ${handle.id}::uuid AND revoked_at IS NULL AND expires_at > now()
      RETURNING revoked_at AS "revokedAt"`;
    const row = rows[0];
    if (!row) {
      const current = await tx.handle.findUniqueOrThrow({
        where: { id: handle.id },
        select: { accessor: true, status: true, cancelState: true, revokedAt: true, revokeTrigger: true, expiresAt: true },
      });
      throw handleStateConflict(handleStateOf(current));
    }
    await recordAuditEvent(tx, {
      actor,
      action: "handle.revoked",
      target: { type: "handle", id: handle.id },
      reason,
      payload: { accessor, trigger: "manual", serverId: handle.serverId },
    });
    return { accessor, revokedAt: row.revokedAt.toISOString(), revokeReason: reason, revokeTrigger: "manual" } as const;
  });
  // The gateway's in-memory rows: this process has seen the revocation before we answer.
  await settleGatewayCache();
  return revoked;
}
