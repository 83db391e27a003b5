import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { describeErrorForLog, log } from "@/lib/log";
import { methodLabel, metrics } from "@/lib/metrics/registry";

/** An upstream failure the agent was told about; audited, and logged without message contents. */
export async function recordUpstreamError(input: { actor: TActor; serverId: string; method: string; detail: string; accessor?: string | null; err?: unknown }): Promise<void> {
  metrics().upstreamErrors.inc({ method: methodLabel(input.method) });
  log.warn({ requestId: input.actor.request.requestId, serverId: input.serverId, method: input.method, detail: input.detail, ...(input.err ? { err: describeErrorForLog(input.err) } : {}) }, "Upstream MCP call failed");
  try {
    await getPrisma().$transaction((tx) =>
      recordAuditEvent(tx, {
        actor: input.actor,
        action: "gateway.upstream_error",
        outcome: "error",
        target: { type: "mcp_server", id: input.serverId },
        payload: { serverId: input.serverId, method: input.method, detail: input.detail.slice(0, 500), accessor: input.accessor ?? null },
      }),
    );
  } catch (err) {
    // The agent already gets an error; a failed audit write must not turn it into a different one.
    log.error({ requestId: input.actor.request.requestId, err: describeErrorForLog(err) }, "Could not audit an upstream failure");
  }
}
