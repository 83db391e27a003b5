import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { incrementRateLimit } from "@/lib/auth/consume-rate-limit";
import { getPrisma } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { metrics } from "@/lib/metrics/registry";

/**
 * Counts one `tasks/*` call against the principal's per-minute budget (shared by every gateway
 * instance through Postgres). Returns the seconds to wait when over it; the first refusal in a
 * window is audited, the rest only counted.
 */
export async function consumeTaskRateLimit(input: { actor: TActor; serverId: string; operation: string }): Promise<number | null> {
  const limit = getEnv().TETHER_GATEWAY_TASKS_PER_MINUTE;
  const db = getPrisma();
  const state = await incrementRateLimit(db, `gw-tasks:${input.actor.id}`, 60);
  if (state.count <= limit) return null;
  metrics().handleDenials.inc({ cause: "rate_limited" });
  if (state.count === limit + 1) {
    await db.$transaction((tx) =>
      recordAuditEvent(tx, {
        actor: input.actor,
        action: "gateway.rate_limited",
        outcome: "denied",
        target: { type: "principal", id: input.actor.id },
        payload: { serverId: input.serverId, operation: input.operation, limitPerMinute: limit },
      }),
    );
  }
  return Math.max(1, state.retryAfterSeconds);
}
