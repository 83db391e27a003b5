import "server-only";
import { randomUUID } from "node:crypto";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { systemActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { describeErrorForLog, log } from "@/lib/log";
import { probeUpstream } from "./probe-upstream";
import { declaredColumns, recordServerCheck } from "./record-server-check";
import type { TProbeResult, TServerHealth } from "./schemas";

/** Servers one worker claims per round, and checks at once. */
export const HEALTH_BATCH = 20;
const HEALTH_CONCURRENCY = 4;

type TClaimed = { id: string; slug: string; url: string; credentialsEnc: string | null; declared: boolean };

async function checkOne(server: TClaimed, timeoutMs: number): Promise<TProbeResult> {
  // A server that was never checked by the registry (the demo seed inserts one directly) gets
  // its declarations recorded by its first successful health check. The check authenticates as
  // the gateway does (an OAuth access token is shared with it).
  const result = await probeUpstream({ url: server.url, credentials: { server }, timeoutMs, listTools: !server.declared });
  if (result.problem?.kind === "credentials_unreadable") log.error({ serverId: server.id }, "stored server credentials could not be decrypted");
  return result;
}

/**
 * One round of health checks: claims the enabled servers that are due, checks each (an MCP
 * `initialize` round trip, timed), and records the result. Claiming moves `next_health_check_at`
 * forward by a lease in the same statement, under FOR UPDATE SKIP LOCKED, so any number of
 * console instances share the servers without checking one twice; a claim whose process dies is
 * picked up by another once the lease runs out. Returns how many servers it checked.
 */
export async function runHealthChecks(options: { limit?: number } = {}): Promise<number> {
  const env = getEnv();
  const db = getPrisma();
  const leaseSeconds = Math.ceil(env.TETHER_SERVER_PROBE_TIMEOUT_MS / 1000) + 30;
  const claimed = await db.$queryRaw<TClaimed[]>`
    UPDATE mcp_server SET next_health_check_at = now() + make_interval(secs => ${leaseSeconds})
     WHERE id IN (SELECT id FROM mcp_server
                   WHERE enabled AND removed_at IS NULL AND (next_health_check_at IS NULL OR next_health_check_at <= now())
                   ORDER BY next_health_check_at NULLS FIRST
                   LIMIT ${options.limit ?? HEALTH_BATCH}
                   FOR UPDATE SKIP LOCKED)
    RETURNING id::text AS id, slug, url, credentials_enc AS "credentialsEnc", capabilities IS NOT NULL AS declared`;

  const queue = [...claimed];
  const runOne = async () => {
    for (let server = queue.shift(); server; server = queue.shift()) {
      const result = await checkOne(server, env.TETHER_SERVER_PROBE_TIMEOUT_MS);
      const requestId = `health-${randomUUID()}`;
      try {
        await db.$transaction(async (tx) => {
          const [row] = await tx.$queryRaw<Array<{ health: TServerHealth; consecutiveFailures: number; enabled: boolean; removed: boolean; url: string }>>`
            SELECT health::text AS health, consecutive_failures AS "consecutiveFailures", enabled, removed_at IS NOT NULL AS removed, url
              FROM mcp_server WHERE id = ${server.id}::uuid FOR UPDATE`;
          // Disabled, removed or pointed elsewhere while it was being checked: the result is moot.
          if (!row || !row.enabled || row.removed || row.url !== server.url) return;
          if (!server.declared && result.details) {
            const declared = declaredColumns(result.details);
            await tx.mcpServer.update({ where: { id: server.id }, data: declared });
            await recordAuditEvent(tx, {
              actor: systemActor("server-health", requestId),
              action: "server.updated",
              target: { type: "mcp_server", id: server.id },
              payload: { slug: server.slug, changes: Object.keys(declared), problem: result.problem?.kind ?? null },
            });
          }
          await recordServerCheck(tx, { server: { id: server.id, slug: server.slug, health: row.health, consecutiveFailures: row.consecutiveFailures }, result, requestId });
        });
      } catch (err) {
        log.error({ serverId: server.id, err: describeErrorForLog(err) }, "could not record a health check");
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEALTH_CONCURRENCY, claimed.length) }, runOne));
  return claimed.length;
}
