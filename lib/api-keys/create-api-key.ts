import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { keyedHash } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { generateApiKey } from "./api-key-format";
import { ZCreateApiKeyInput, type TCreatedApiKey } from "./schemas";
import { API_KEY_DTO_SELECT, toApiKeyDtos } from "./to-api-key-dto";

const DAY_MS = 86_400_000;
// The 8-hex public prefix is unique; two keys drawing the same one (1 in 2^32 per pair) retry.
const ATTEMPTS = 3;

/**
 * Issues an API key for a service account. The full key exists only in this function's return
 * value: the database keeps its public prefix and its keyed hash, the audit trail the prefix.
 */
export async function createApiKey(input: { actor: TActor; data: unknown }): Promise<TCreatedApiKey> {
  assertCan(input.actor, "keys.manage");
  const parsed = ZCreateApiKeyInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { principalId, name, expiresInDays } = parsed.data;
  const { actor } = input;

  for (let attempt = 1; ; attempt++) {
    const { key, prefix } = generateApiKey();
    try {
      const dto = await getPrisma().$transaction(async (tx) => {
        const account = await tx.principal.findUnique({ where: { id: principalId }, select: { kind: true, disabledAt: true } });
        if (!account || account.kind !== "service") throw new AppError("NOT_FOUND", "No such service account.");
        if (account.disabledAt) throw new AppError("INVALID_STATE", "This service account is disabled; enable it before issuing keys.");
        const createdAt = new Date();
        const expiresAt = expiresInDays === null ? null : new Date(createdAt.getTime() + expiresInDays * DAY_MS);
        const row = await tx.apiKey.create({
          data: {
            principalId,
            name,
            prefix,
            hash: keyedHash("api-key", key),
            createdAt,
            // Tether's own workers have no principal row; everyone else is recorded.
            createdById: actor.type === "system" ? null : actor.id,
            expiresAt,
          },
          select: API_KEY_DTO_SELECT,
        });
        await recordAuditEvent(tx, {
          actor,
          action: "api_key.created",
          target: { type: "api_key", id: row.id },
          payload: { prefix, principalId, expiresAt: expiresAt?.toISOString() ?? null },
        });
        const [out] = await toApiKeyDtos(tx, [row], createdAt);
        return out!;
      });
      return { key, dto };
    } catch (err) {
      if ((err as { code?: string }).code === "P2002" && attempt < ATTEMPTS) continue;
      throw err;
    }
  }
}
