import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";

/** Registered upstream servers. Credentials are never selected. */
export async function listServers(input: { actor: TActor }) {
  assertCan(input.actor, "servers.read");
  return getPrisma().mcpServer.findMany({
    where: { removedAt: null },
    orderBy: { slug: "asc" },
    select: {
      id: true,
      slug: true,
      name: true,
      url: true,
      audience: true,
      enabled: true,
      health: true,
      lastCheckedAt: true,
      taskWires: true,
      tags: true,
      _count: { select: { handles: true } },
    },
  });
}
