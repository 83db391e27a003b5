import "server-only";
import { decryptSecret } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { handleTokenContext, upstreamTaskIdHash } from "./handle-token";
import type { TTaskWire } from "./task-wire";

/**
 * The token of the caller's own live handle for an upstream task id seen in an upstream message
 * on the caller's session, or null. Never another principal's or another session's handle:
 * those messages are dropped or stripped instead of translated.
 */
export async function findHandleByUpstreamId(input: {
  serverId: string;
  principalId: string;
  /** The caller's session; null on the session-less 2026-07-28 wire. */
  sessionId: string | null;
  wire: TTaskWire;
  upstreamTaskId: string;
}): Promise<{ id: string; token: string; effectiveTtlMs: number } | null> {
  const rows = await getPrisma().$queryRaw<Array<{ id: string; token_enc: string; effective_ttl_ms: number }>>`
    SELECT id::text AS id, token_enc, effective_ttl_ms FROM handle
     WHERE server_id = ${input.serverId}::uuid AND upstream_task_id_hash = ${upstreamTaskIdHash(input.serverId, input.upstreamTaskId)}
       AND principal_id = ${input.principalId}::uuid AND wire = ${input.wire}::"TaskWire"
       AND session_id IS NOT DISTINCT FROM ${input.sessionId}::uuid
       AND revoked_at IS NULL AND expires_at > now()
     LIMIT 1`;
  const row = rows[0];
  return row ? { id: row.id, token: decryptSecret(row.token_enc, handleTokenContext(row.id)), effectiveTtlMs: row.effective_ttl_ms } : null;
}
