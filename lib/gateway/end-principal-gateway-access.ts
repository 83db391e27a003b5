import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import type { TTx } from "@/lib/db/types";
import { revokeLiveHandles } from "@/lib/handles/revoke-live-handles";

/**
 * Context change "principal disabled", inside the caller's transaction (which has just set
 * disabled_at, holding the row lock minting reads FOR SHARE): ends the principal's gateway
 * sessions and revokes all its live handles, each audited with the trigger.
 */
export async function endPrincipalGatewayAccess(tx: TTx, input: { principalId: string; actor: TActor; reason: string }): Promise<{ endedSessions: number; revokedHandles: number }> {
  const { actor, reason, principalId } = input;
  const revoked = await revokeLiveHandles(tx, { scope: { trigger: "principal_disabled", principalId }, actor, reason });
  const sessions = await tx.$queryRaw<Array<{ id: string; serverId: string }>>`
    UPDATE gateway_session SET ended_at = now(), end_reason = 'principal_disabled'
     WHERE principal_id = ${principalId}::uuid AND ended_at IS NULL
    RETURNING id::text AS id, server_id::text AS "serverId"`;
  for (const s of sessions) {
    await recordAuditEvent(tx, {
      actor,
      action: "gateway.session_ended",
      target: { type: "gateway_session", id: s.id },
      reason,
      payload: { sessionId: s.id, serverId: s.serverId, cause: "principal_disabled", revokedHandles: revoked.filter((h) => h.sessionId === s.id).length },
    });
  }
  return { endedSessions: sessions.length, revokedHandles: revoked.length };
}
