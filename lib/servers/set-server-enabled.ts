import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { AppError, invalidInput } from "@/lib/errors";
import { countLiveHandles } from "./count-live-handles";
import { findVisibleServer, lockVisibleServer, serverIdOf } from "./find-visible-server";
import { probeFailedError } from "./probe-failed-error";
import { probeUpstream } from "./probe-upstream";
import { recordServerCheck } from "./record-server-check";
import { ZSetServerEnabledInput, type TServerDto } from "./schemas";
import { SERVER_DTO_SELECT, toServerDtos } from "./to-server-dtos";
import { settledAfter } from "@/lib/gateway/gateway-cache";

/**
 * Enables or disables a server. A disabled server is not reachable through the gateway (its
 * handles are refused there, not revoked) and is not health-checked. Enabling checks the
 * connection first and refuses a failing server unless forced; the check becomes its first
 * health check. Disabling needs a reason.
 */
export async function setServerEnabled(input: { actor: TActor; data: unknown }): Promise<TServerDto> {
  assertCan(input.actor, "servers.manage");
  const serverId = serverIdOf(input.data);
  const parsed = ZSetServerEnabledInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { enabled, reason, force } = parsed.data;
  const { actor } = input;
  const db = getPrisma();
  const wrongState = () => new AppError("INVALID_STATE", enabled ? "This server is already enabled." : "This server is already disabled.");

  const current = await findVisibleServer(db, serverId);
  if (current.enabled === enabled) throw wrongState();
  const check = enabled
    ? await probeUpstream({
        url: current.url,
        credentials: { server: current },
        timeoutMs: getEnv().TETHER_SERVER_PROBE_TIMEOUT_MS,
        listTools: false,
      })
    : null;
  if (check && !check.ok && !force) throw probeFailedError(check, "enable it anyway (force)");

  return settledAfter(db.$transaction(async (tx) => {
    const locked = await lockVisibleServer(tx, serverId);
    if (locked.enabled === enabled) throw wrongState();
    if (enabled) {
      // Health starts afresh: the last status is from before the server was disabled.
      await tx.mcpServer.update({ where: { id: serverId }, data: { enabled: true, health: "unknown", consecutiveFailures: 0 } });
      await recordAuditEvent(tx, {
        actor,
        action: "server.enabled",
        target: { type: "mcp_server", id: serverId },
        ...(reason ? { reason } : {}),
        payload: { slug: locked.slug, problem: check?.problem?.kind ?? null },
      });
      await recordServerCheck(tx, { server: { id: serverId, slug: locked.slug, health: "unknown", consecutiveFailures: 0 }, result: check!, requestId: actor.request.requestId });
    } else {
      await tx.mcpServer.update({ where: { id: serverId }, data: { enabled: false, nextHealthCheckAt: null } });
      await recordAuditEvent(tx, {
        actor,
        action: "server.disabled",
        target: { type: "mcp_server", id: serverId },
        ...(reason ? { reason } : {}),
        payload: { slug: locked.slug, liveHandles: await countLiveHandles(tx, serverId) },
      });
    }
    const [dto] = await toServerDtos(tx, [await tx.mcpServer.findUniqueOrThrow({ where: { id: serverId }, select: SERVER_DTO_SELECT })]);
    return dto!;
  }));
}
