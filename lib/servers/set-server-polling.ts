import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { lockVisibleServer, serverIdOf } from "./find-visible-server";
import { ZSetServerPollingInput, type TServerDto } from "./schemas";
import { SERVER_DTO_SELECT, toServerDtos } from "./to-server-dtos";

/**
 * Pauses or resumes the status-sync worker's polling of one server (for an upstream that asks for
 * less load, or during its maintenance). The gateway keeps serving it; handle statuses then only
 * change when agents poll through the gateway. Audited with a reason.
 */
export async function setServerPolling(input: { actor: TActor; data: unknown }): Promise<TServerDto> {
  assertCan(input.actor, "servers.manage");
  const serverId = serverIdOf(input.data);
  const parsed = ZSetServerPollingInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { paused, reason } = parsed.data;
  const db = getPrisma();
  return db.$transaction(async (tx) => {
    const server = await lockVisibleServer(tx, serverId);
    if (server.pollingPaused === paused) throw new AppError("INVALID_STATE", paused ? "Polling of this server is already paused." : "Polling of this server is not paused.");
    await tx.mcpServer.update({ where: { id: serverId }, data: { pollingPaused: paused } });
    await recordAuditEvent(tx, {
      actor: input.actor,
      action: paused ? "server.polling_paused" : "server.polling_resumed",
      target: { type: "mcp_server", id: serverId },
      reason,
      payload: { slug: server.slug },
    });
    const [dto] = await toServerDtos(tx, [await tx.mcpServer.findUniqueOrThrow({ where: { id: serverId }, select: SERVER_DTO_SELECT })]);
    return dto!;
  });
}
