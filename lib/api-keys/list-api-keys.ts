import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { invalidInput } from "@/lib/errors";
import { ZListApiKeysInput, type TApiKeyDto } from "./schemas";
import { API_KEY_DTO_SELECT, toApiKeyDtos } from "./to-api-key-dto";

/** API keys, newest first, optionally of one principal. Prefix and metadata only; never the hash. */
export async function listApiKeys(input: { actor: TActor; principalId?: unknown }): Promise<TApiKeyDto[]> {
  assertCan(input.actor, "keys.manage");
  const parsed = ZListApiKeysInput.safeParse(input.principalId === undefined ? {} : { principalId: input.principalId });
  if (!parsed.success) throw invalidInput(parsed.error);
  const { principalId } = parsed.data;

  const db = getPrisma();
  const rows = await db.apiKey.findMany({
    where: principalId === undefined ? {} : { principalId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: 1000,
    select: API_KEY_DTO_SELECT,
  });
  return toApiKeyDtos(db, rows);
}
