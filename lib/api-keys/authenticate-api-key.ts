import "server-only";
import { randomUUID } from "node:crypto";
import type { TActor, TRequestMeta } from "@/lib/auth/actor";
import { keyedHash } from "@/lib/crypto/secrets";
import type { TRole } from "@/lib/auth/permissions";
import { getPool } from "@/lib/db/client";
import { gatewayCache } from "@/lib/gateway/gateway-cache";
import { API_KEY_PATTERN, API_KEY_PREFIX_LENGTH } from "./api-key-format";

// lastUsedAt is for humans ("is this key still in use?"), so minute precision is plenty; the
// hot path writes at most once a minute per key instead of on every call.
const LAST_USED_RESOLUTION_MS = 60_000;

type TKeyRow = {
  id: string;
  prefix: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  principal_id: string;
  kind: string;
  role: TRole;
  name: string;
  disabled_at: Date | null;
};

/**
 * The agent an API key belongs to, or null for any key that must not authenticate: unknown,
 * malformed, revoked, expired, or belonging to a disabled principal or to one that is not a
 * service account. The key is looked up by its keyed hash only, never by its public prefix, so
 * knowing a prefix (it is shown in the console and the audit trail) gets a caller nothing. Every
 * refusal looks the same to the caller; which one it was is not revealed.
 */
export async function authenticateApiKey(token: string, request: TRequestMeta = { requestId: randomUUID() }): Promise<TActor | null> {
  // Not a key at all: no HMAC and no query. The format is public, so this reveals nothing.
  if (typeof token !== "string" || !API_KEY_PATTERN.test(token)) return null;
  const hash = keyedHash("api-key", token);
  // From the gateway cache (invalidated through Postgres NOTIFY) or one round trip: the key and
  // its principal together, through the pool directly (this runs on every agent call).
  const cache = gatewayCache();
  let key = cache?.get<TKeyRow>("apiKey", hash);
  if (!key) {
    const epoch = cache?.readEpoch() ?? null;
    const { rows } = await getPool().query<TKeyRow>(
      `SELECT k.id, k.prefix, k.expires_at, k.revoked_at, k.last_used_at, p.id AS principal_id, p.kind, p.role, p.name, p.disabled_at
         FROM api_key k JOIN principal p ON p.id = k.principal_id
        WHERE k.hash = $1`,
      [hash],
    );
    key = rows[0];
    if (key) cache?.set("apiKey", hash, key, { id: key.id, principalId: key.principal_id }, epoch);
  }
  const now = new Date();
  if (!key || key.prefix !== token.slice(0, API_KEY_PREFIX_LENGTH)) return null;
  if (key.revoked_at || (key.expires_at && key.expires_at <= now)) return null;
  if (key.kind !== "service" || key.disabled_at) return null;

  if (!key.last_used_at || now.getTime() - key.last_used_at.getTime() >= LAST_USED_RESOLUTION_MS) {
    // Guarded in SQL too: several instances serving the same agent write once between them.
    await getPool().query(
      `UPDATE api_key SET last_used_at = now() WHERE id = $1::uuid AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [key.id],
    );
    // The row may be the gateway cache's: the write's notification evicts it only once Postgres
    // has delivered it, and until then every call here would send the same guarded, no-op UPDATE.
    key.last_used_at = now;
  }
  return { type: "service", id: key.principal_id, role: key.role, name: key.name, apiKeyId: key.id, request };
}
