import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { systemActor } from "@/lib/auth/actor";
import { Prisma } from "@/lib/db/generated/client";
import type { TTx } from "@/lib/db/types";
import { getEnv } from "@/lib/env";
import { healthAfterCheck, isReachable } from "./health-status";
import type { TProbeDetails, TProbeResult, TServerHealth } from "./schemas";

/** Checks kept per server, and for how long at most. */
export const HEALTH_HISTORY_CHECKS = 500;
export const HEALTH_HISTORY_DAYS = 7;

/** The columns that record what a server declared in a successful handshake. */
export function declaredColumns(details: TProbeDetails) {
  return {
    serverInfo: details.serverInfo as Prisma.InputJsonValue,
    protocolVersion: details.protocolVersion || null,
    capabilities: details.capabilities as Prisma.InputJsonValue,
    tools: details.tools as Prisma.InputJsonValue,
    taskWires: details.taskWires,
  };
}

/** When the next check is due: the interval, spread by ±10 % so servers registered together drift apart. */
export function nextCheckAt(now = Date.now()): Date {
  const intervalMs = getEnv().TETHER_SERVER_HEALTH_INTERVAL_SECONDS * 1000;
  return new Date(now + Math.round(intervalMs * (0.9 + Math.random() * 0.2)));
}

/**
 * Records one connection check of an enabled server as a health check, in the caller's
 * transaction (which holds the server's row lock): the history row, the server's health
 * columns, and `server.health_changed` (actor system) when the status moves. Then trims the
 * history. Returns the new status.
 */
export async function recordServerCheck(
  tx: TTx,
  input: {
    server: { id: string; slug: string; health: TServerHealth; consecutiveFailures: number };
    result: TProbeResult;
    requestId: string;
  },
): Promise<TServerHealth> {
  const { server, result } = input;
  const ok = isReachable(result);
  const { status, consecutiveFailures } = healthAfterCheck({ ok, latencyMs: result.latencyMs, failuresBefore: server.consecutiveFailures });
  const error = ok ? null : (result.problem?.message ?? "The check failed.");
  const errorKind = ok ? null : (result.problem?.kind ?? null);
  const now = new Date();
  await tx.serverHealthCheck.create({
    data: { serverId: server.id, checkedAt: now, ok, status, latencyMs: result.latencyMs, errorKind, error },
  });
  await tx.mcpServer.update({
    where: { id: server.id },
    data: {
      health: status,
      lastCheckedAt: now,
      lastLatencyMs: result.latencyMs,
      lastError: error,
      lastErrorKind: errorKind,
      consecutiveFailures,
      nextHealthCheckAt: nextCheckAt(now.getTime()),
    },
  });
  if (status !== server.health) {
    await recordAuditEvent(tx, {
      actor: systemActor("server-health", input.requestId),
      action: "server.health_changed",
      target: { type: "mcp_server", id: server.id },
      payload: { slug: server.slug, from: server.health, to: status, latencyMs: result.latencyMs, error },
    });
  }
  await tx.$executeRaw`
    DELETE FROM server_health_check
     WHERE server_id = ${server.id}::uuid
       AND (checked_at < now() - make_interval(days => ${HEALTH_HISTORY_DAYS})
            OR id <= (SELECT id FROM server_health_check WHERE server_id = ${server.id}::uuid ORDER BY id DESC OFFSET ${HEALTH_HISTORY_CHECKS} LIMIT 1))`;
  return status;
}
