import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { serverIdOf, serverNotFound } from "./find-visible-server";
import type { TServerDto } from "./schemas";
import { SERVER_DTO_SELECT, toServerDtos } from "./to-server-dtos";

/** One registered server; a removed or unknown one is 404. */
export async function getServer(input: { actor: TActor; serverId: unknown }): Promise<TServerDto> {
  assertCan(input.actor, "servers.read");
  const serverId = serverIdOf({ serverId: input.serverId });
  const db = getPrisma();
  const row = await db.mcpServer.findFirst({ where: { id: serverId, removedAt: null }, select: SERVER_DTO_SELECT });
  if (!row) throw serverNotFound();
  const [dto] = await toServerDtos(db, [row]);
  return dto!;
}
