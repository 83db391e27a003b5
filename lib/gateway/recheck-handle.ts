import "server-only";
import { getPool } from "@/lib/db/client";
import type { TDenialCause } from "./record-handle-denial";

/**
 * Is a handle that passed its check still usable now? For answers that arrive long after the
 * check (tasks/result blocks until the task ends): a revocation, expiry or policy invalidation in
 * the meantime must stop the result too. Null when it is still usable.
 */
export async function recheckHandle(handleId: string): Promise<TDenialCause | null> {
  const { rows } = await getPool().query<{ revoked: boolean; expired: boolean; invalidated: boolean }>(
    `SELECT h.revoked_at IS NOT NULL AS revoked, h.expires_at <= now() AS expired, h.policy_version < p.min_valid_version AS invalidated
       FROM handle h, (SELECT min_valid_version FROM handle_policy ORDER BY version DESC LIMIT 1) p
      WHERE h.id = $1::uuid`,
    [handleId],
  );
  const row = rows[0];
  if (!row || row.revoked) return "revoked";
  if (row.expired) return "expired";
  if (row.invalidated) return "policy_invalidated";
  return null;
}
