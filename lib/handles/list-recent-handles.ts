import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";

/** The newest handles with their binding, for the inventory. Never selects secret columns. */
export async function listRecentHandles(input: { actor: TActor; limit?: number }) {
  assertCan(input.actor, "handles.read");
  return getPrisma().handle.findMany({
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: Math.min(input.limit ?? 50, 200),
    select: {
      accessor: true,
      toolName: true,
      status: true,
      statusMessage: true,
      createdAt: true,
      expiresAt: true,
      revokedAt: true,
      wire: true,
      server: { select: { slug: true, name: true } },
      principal: { select: { name: true, email: true } },
    },
  });
}
