import "server-only";
import { randomUUID } from "node:crypto";
import type { TActor, TRequestMeta } from "@/lib/auth/actor";
import { keyedHash } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { API_KEY_PATTERN, API_KEY_PREFIX_LENGTH } from "./api-key-format";

// lastUsedAt is for humans ("is this key still in use?"), so minute precision is plenty; the
// hot path writes at most once a minute per key instead of on every call.
const LAST_USED_RESOLUTION_MS = 60_000;

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
  const db = getPrisma();
  const key = await db.apiKey.findUnique({
    where: { hash: keyedHash("api-key", token) },
    select: {
      id: true,
      prefix: true,
      expiresAt: true,
      revokedAt: true,
      lastUsedAt: true,
      principal: { select: { id: true, kind: true, role: true, name: true, disabledAt: true } },
    },
  });
  const now = new Date();
  if (!key || key.prefix !== token.slice(0, API_KEY_PREFIX_LENGTH)) return null;
  if (key.revokedAt || (key.expiresAt && key.expiresAt <= now)) return null;
  const p = key.principal;
  if (p.kind !== "service" || p.disabledAt) return null;

  if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    // Guarded in SQL too: several instances serving the same agent write once between them.
    await db.$executeRaw`
      UPDATE api_key SET last_used_at = now()
       WHERE id = ${key.id}::uuid AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`;
  }
  return { type: "service", id: p.id, role: p.role, name: p.name, apiKeyId: key.id, request };
}
