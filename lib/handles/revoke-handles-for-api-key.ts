import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import type { TTx } from "@/lib/db/types";

export type TRevokedHandleRef = { id: string; accessor: string; serverId: string };

/**
 * Context change "API key revoked": revokes, in the caller's transaction, every live handle
 * minted with the key (not yet revoked, not yet expired), and writes one `handle.revoked` per
 * handle naming the trigger. Expired handles are left as they are: they are already refused,
 * and the expiry sweeper marks them. Runs inside revokeApiKey, so the key and its handles are
 * revoked together or not at all; callers have authorized the revocation already.
 */
export async function revokeHandlesForApiKey(
  tx: TTx,
  input: { apiKeyId: string; actor: TActor; reason: string },
): Promise<TRevokedHandleRef[]> {
  const { actor, reason } = input;
  // revoked_by_id references a principal; Tether's own workers have none (the audit event
  // names them). Users and agents (an admin agent revoking over REST) are recorded.
  const revokedById = actor.type === "system" ? null : actor.id;
  // Race with minting: revokeApiKey updates the api_key row before calling this, so it holds that
  // row's lock until commit. A mint that reads its key `FOR SHARE` (revoked_at IS NULL) in its own
  // transaction therefore either commits first (and its handle is revoked here) or sees the key
  // revoked; without that lock a handle inserted during this transaction would escape.
  const handles = await tx.$queryRaw<TRevokedHandleRef[]>`
    UPDATE handle
       SET revoked_at = now(), revoked_by_id = ${revokedById}::uuid, revoke_reason = ${reason}, revoke_trigger = 'api_key_revoked'
     WHERE api_key_id = ${input.apiKeyId}::uuid AND revoked_at IS NULL AND expires_at > now()
    RETURNING id::text AS id, accessor, server_id::text AS "serverId"`;
  for (const h of handles) {
    await recordAuditEvent(tx, {
      actor,
      action: "handle.revoked",
      target: { type: "handle", id: h.id },
      reason,
      payload: { accessor: h.accessor, trigger: "api_key_revoked", serverId: h.serverId },
    });
  }
  return handles;
}
