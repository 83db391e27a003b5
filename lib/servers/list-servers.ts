import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import type { TServerDto } from "./schemas";
import { SERVER_DTO_SELECT, toServerDtos } from "./to-server-dtos";

/** Registered servers (not removed), by slug, with health history and live handles. Credentials never leave. */
export async function listServers(input: { actor: TActor }): Promise<TServerDto[]> {
  assertCan(input.actor, "servers.read");
  const db = getPrisma();
  const rows = await db.mcpServer.findMany({ where: { removedAt: null }, orderBy: { slug: "asc" }, take: 500, select: SERVER_DTO_SELECT });
  return toServerDtos(db, rows);
}
