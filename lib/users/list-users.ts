import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { toUserDto, type TUserDto } from "./schemas";

export async function listUsers(input: { actor: TActor }): Promise<TUserDto[]> {
  assertCan(input.actor, "users.manage");
  const users = await getPrisma().principal.findMany({
    where: { kind: "user" },
    orderBy: [{ disabledAt: { sort: "asc", nulls: "first" } }, { email: "asc" }],
    take: 500,
  });
  return users.map(toUserDto);
}
