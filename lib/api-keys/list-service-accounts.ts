import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import type { TServiceAccountDto } from "./schemas";
import { activeKeyWhere, toServiceAccountDto } from "./service-account-dto";

/** Service accounts, enabled first, with how many of their keys would authenticate today. */
export async function listServiceAccounts(input: { actor: TActor }): Promise<TServiceAccountDto[]> {
  assertCan(input.actor, "keys.manage");
  const now = new Date();
  const accounts = await getPrisma().principal.findMany({
    where: { kind: "service" },
    orderBy: [{ disabledAt: { sort: "asc", nulls: "first" } }, { name: "asc" }, { id: "asc" }],
    take: 500,
    select: {
      id: true,
      name: true,
      role: true,
      disabledAt: true,
      createdAt: true,
      _count: { select: { apiKeys: { where: activeKeyWhere(now) } } },
    },
  });
  return accounts.map((a) => toServiceAccountDto(a, a._count.apiKeys));
}
