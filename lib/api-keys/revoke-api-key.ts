import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { revokeLiveHandles } from "@/lib/handles/revoke-live-handles";
import { ZRevokeApiKeyInput, type TApiKeyDto } from "./schemas";
import { API_KEY_DTO_SELECT, toApiKeyDtos } from "./to-api-key-dto";
import { settledAfter } from "@/lib/gateway/gateway-cache";

/**
 * Revokes an API key for good: the next request with it is refused. The live task handles
 * minted with the key are revoked in the same transaction, each with its own audit event.
 */
export async function revokeApiKey(input: { actor: TActor; data: unknown }): Promise<TApiKeyDto> {
  assertCan(input.actor, "keys.manage");
  const parsed = ZRevokeApiKeyInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { keyId, reason } = parsed.data;
  const { actor } = input;

  return settledAfter(getPrisma().$transaction(async (tx) => {
    const key = await tx.apiKey.findUnique({ where: { id: keyId }, select: { id: true, prefix: true, principalId: true, revokedAt: true } });
    if (!key) throw new AppError("NOT_FOUND", "No such API key.");
    if (key.revokedAt) throw new AppError("INVALID_STATE", "This API key is already revoked.");
    // Guarded on revoked_at, so of two simultaneous revocations exactly one wins; the row lock it
    // takes is held to commit, which is what keeps concurrent handle minting out (see the hook).
    const { count } = await tx.apiKey.updateMany({
      where: { id: keyId, revokedAt: null },
      data: { revokedAt: new Date(), revokedById: actor.type === "system" ? null : actor.id },
    });
    if (count !== 1) throw new AppError("INVALID_STATE", "This API key is already revoked.");
    const handles = await revokeLiveHandles(tx, { scope: { trigger: "api_key_revoked", apiKeyId: keyId }, actor, reason });
    await recordAuditEvent(tx, {
      actor,
      action: "api_key.revoked",
      target: { type: "api_key", id: keyId },
      reason,
      payload: { prefix: key.prefix, principalId: key.principalId, revokedHandles: handles.length },
    });
    const row = await tx.apiKey.findUniqueOrThrow({ where: { id: keyId }, select: API_KEY_DTO_SELECT });
    const [dto] = await toApiKeyDtos(tx, [row]);
    return dto!;
  }));
}
