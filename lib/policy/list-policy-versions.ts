import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { diffPolicies } from "./diff-policy";
import { ZPolicyVersionDto, type TPolicyVersionDto } from "./schemas";
import { toPolicy } from "./to-policy";

/** Policy versions, newest first, each with what it changed from the one before it. */
export async function listPolicyVersions(input: { actor: TActor; limit?: number }): Promise<TPolicyVersionDto[]> {
  assertCan(input.actor, "policy.manage");
  const limit = Math.min(Math.max(input.limit ?? 100, 1), 500);
  // One more than shown: the oldest listed version is diffed against its predecessor.
  const rows = await getPrisma().handlePolicy.findMany({
    orderBy: { version: "desc" },
    take: limit + 1,
    include: { createdBy: { select: { id: true, name: true, email: true } } },
  });
  return rows.slice(0, limit).map((row, i) => {
    const previous = rows[i + 1];
    return ZPolicyVersionDto.parse({
      ...toPolicy(row),
      createdBy: row.createdBy,
      changes: previous ? diffPolicies(toPolicy(previous), toPolicy(row)) : null,
    });
  });
}
