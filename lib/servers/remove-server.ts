import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { getPrisma } from "@/lib/db/client";
import { AppError, invalidInput } from "@/lib/errors";
import { revokeLiveHandles } from "@/lib/handles/revoke-live-handles";
import { countLiveHandles } from "./count-live-handles";
import { lockVisibleServer, serverIdOf } from "./find-visible-server";
import { ZRemoveServerInput, type TRemoveHandling } from "./schemas";
import { settledAfter } from "@/lib/gateway/gateway-cache";

export type TRemovedServer = { id: string; slug: string; removedAt: Date; liveHandles: number; handling: TRemoveHandling; revokedHandles: number };

/**
 * Removes a server from the registry: the gateway stops serving /mcp/{slug} at once, health
 * checks stop, and the row stays (invisible) so the audit trail and its handles keep their
 * reference; the slug is not reused. A server with live handles needs a decision: revoke them all
 * (one `handle.revoked` each, trigger server_removed) or keep them as orphans (they stay in the
 * inventory until they expire; the gateway refuses them, as it refuses everything for a removed
 * server).
 */
export async function removeServer(input: { actor: TActor; data: unknown }): Promise<TRemovedServer> {
  assertCan(input.actor, "servers.manage");
  const serverId = serverIdOf(input.data);
  const parsed = ZRemoveServerInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { handling, reason } = parsed.data;
  const { actor } = input;

  return settledAfter(getPrisma().$transaction(async (tx) => {
    const server = await lockVisibleServer(tx, serverId);
    const liveHandles = await countLiveHandles(tx, serverId);
    if (liveHandles > 0 && handling === undefined) {
      const message = `This server has ${liveHandles} live ${liveHandles === 1 ? "handle" : "handles"}: choose whether to revoke them all (revoke_all) or keep them as orphans (keep_orphans).`;
      throw new AppError("INVALID_STATE", message, { issues: [{ path: "handling", message }] });
    }
    const removedAt = new Date();
    await tx.mcpServer.update({ where: { id: serverId }, data: { removedAt, enabled: false, nextHealthCheckAt: null } });
    const chosen: TRemoveHandling = handling ?? "revoke_all";
    // The server row is locked and removed first, so the revocation sees every handle minted before it.
    const revoked = chosen === "revoke_all" && liveHandles > 0 ? await revokeLiveHandles(tx, { scope: { trigger: "server_removed", serverId }, actor, reason }) : [];
    await recordAuditEvent(tx, {
      actor,
      action: "server.removed",
      target: { type: "mcp_server", id: serverId },
      reason,
      payload: { slug: server.slug, liveHandles, handling: chosen, revokedHandles: revoked.length },
    });
    return { id: serverId, slug: server.slug, removedAt, liveHandles, handling: chosen, revokedHandles: revoked.length };
  }));
}
