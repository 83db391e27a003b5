import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { Prisma } from "@/lib/db/generated/client";
import type { TTx } from "@/lib/db/types";

export type TRevokedHandleRef = { id: string; accessor: string; serverId: string; sessionId: string | null };

/** Which context change ends the handles, and so which handles it ends. */
export type TRevocationScope =
  | { trigger: "api_key_revoked"; apiKeyId: string }
  | { trigger: "session_ended"; sessionId: string }
  | { trigger: "principal_disabled"; principalId: string }
  | { trigger: "server_removed"; serverId: string };

function scopeCondition(scope: TRevocationScope): Prisma.Sql {
  switch (scope.trigger) {
    case "api_key_revoked":
      return Prisma.sql`api_key_id = ${scope.apiKeyId}::uuid`;
    case "session_ended":
      return Prisma.sql`session_id = ${scope.sessionId}::uuid`;
    case "principal_disabled":
      return Prisma.sql`principal_id = ${scope.principalId}::uuid`;
    case "server_removed":
      return Prisma.sql`server_id = ${scope.serverId}::uuid`;
  }
}

/**
 * A context change (API key revoked, gateway session ended, principal disabled, server removed) revokes, in the
 * caller's transaction, every live handle it covers (not yet revoked, not yet expired), and writes
 * one `handle.revoked` per handle naming the trigger. Expired handles are left as they are: they
 * are already refused, and the expiry sweeper marks them. Callers have authorized the change.
 *
 * Race with minting: the caller updates the row that defines the context (the api_key, the
 * gateway_session, the principal) before calling this, so it holds that row's lock until commit. A
 * mint reads the same rows `FOR SHARE` in its own transaction, so it either commits first (and its
 * handle is revoked here) or waits and then sees the context gone; no handle escapes.
 */
export async function revokeLiveHandles(tx: TTx, input: { scope: TRevocationScope; actor: TActor; reason: string }): Promise<TRevokedHandleRef[]> {
  const { actor, reason, scope } = input;
  // revoked_by_id references a principal; Tether's own workers have none (the audit event names them).
  const revokedById = actor.type === "system" ? null : actor.id;
  const handles = await tx.$queryRaw<TRevokedHandleRef[]>`
    UPDATE handle
       SET revoked_at = now(), revoked_by_id = ${revokedById}::uuid, revoke_reason = ${reason}, revoke_trigger = ${scope.trigger}
     WHERE ${scopeCondition(scope)} AND revoked_at IS NULL AND expires_at > now()
    RETURNING id::text AS id, accessor, server_id::text AS "serverId", session_id::text AS "sessionId"`;
  for (const h of handles) {
    await recordAuditEvent(tx, {
      actor,
      action: "handle.revoked",
      target: { type: "handle", id: h.id },
      reason,
      payload: { accessor: h.accessor, trigger: scope.trigger, serverId: h.serverId },
    });
  }
  return handles;
}
