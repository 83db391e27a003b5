import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { revokeLiveHandles } from "@/lib/handles/revoke-live-handles";
import { settledAfter } from "./gateway-cache";

export type TSessionEndCause = "client_ended" | "upstream_session_lost";

/**
 * Ends a gateway session: the agent sent DELETE, or the upstream forgot its session (its tasks
 * went with it). Every live handle bound to the session is revoked in the same transaction, each
 * with a `handle.revoked` naming the trigger. Returns false when the session had already ended.
 */
export async function endGatewaySession(input: { actor: TActor; sessionId: string; serverId: string; cause: TSessionEndCause }): Promise<boolean> {
  const { actor, sessionId, cause } = input;
  return settledAfter(getPrisma().$transaction(async (tx) => {
    // The update takes the row lock minting reads FOR SHARE: no handle is minted into an ended session.
    const { count } = await tx.gatewaySession.updateMany({ where: { id: sessionId, endedAt: null }, data: { endedAt: new Date(), endReason: cause } });
    if (count === 0) return false;
    const reason = cause === "client_ended" ? "The agent ended its gateway session." : "The upstream server no longer knows the session.";
    const revoked = await revokeLiveHandles(tx, { scope: { trigger: "session_ended", sessionId }, actor, reason });
    await recordAuditEvent(tx, {
      actor,
      action: "gateway.session_ended",
      target: { type: "gateway_session", id: sessionId },
      reason,
      payload: { sessionId, serverId: input.serverId, cause, revokedHandles: revoked.length },
    });
    return true;
  }));
}
