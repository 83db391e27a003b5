import "server-only";
import { auditReferenceHash } from "@/lib/audit/hash-audit-reference";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TAuditPayload } from "@/lib/audit/events";
import type { TActor } from "@/lib/auth/actor";
import { incrementRateLimit } from "@/lib/auth/consume-rate-limit";
import { getPrisma } from "@/lib/db/client";
import { getEnv } from "@/lib/env";
import { metrics } from "@/lib/metrics/registry";

export type TDenialCause = TAuditPayload<"handle.denied">["cause"];

export const ENUMERATION_WINDOW_SECONDS = 300;

/**
 * Writes `handle.denied` with the real reason (the agent only ever sees "task not found"), and
 * counts the refusal towards the principal's enumeration window: at the threshold, one
 * `gateway.enumeration_suspected` event is written in the same transaction.
 */
export async function recordHandleDenial(input: {
  actor: TActor;
  serverId: string;
  operation: string;
  cause: TDenialCause;
  handle: { id: string; accessor: string } | null;
  token: string;
}): Promise<void> {
  const { actor, handle } = input;
  const threshold = getEnv().TETHER_GATEWAY_ENUMERATION_THRESHOLD;
  metrics().handleDenials.inc({ cause: input.cause });
  await getPrisma().$transaction(async (tx) => {
    await recordAuditEvent(tx, {
      actor,
      action: "handle.denied",
      outcome: "denied",
      ...(handle ? { target: { type: "handle", id: handle.id } } : {}),
      payload: {
        accessor: handle?.accessor ?? null,
        // A token that matches nothing is recorded by its keyed hash: an admin can look up a known value.
        ...(handle ? {} : { tokenHash: auditReferenceHash("token", input.token.slice(0, 512)) }),
        operation: input.operation,
        cause: input.cause,
      },
    });
    const window = await incrementRateLimit(tx, `gw-denied:${actor.id}`, ENUMERATION_WINDOW_SECONDS);
    if (window.count === threshold) {
      await recordAuditEvent(tx, {
        actor,
        action: "gateway.enumeration_suspected",
        outcome: "denied",
        target: { type: "principal", id: actor.id },
        reason: `${threshold} task operations refused within ${ENUMERATION_WINDOW_SECONDS / 60} minutes.`,
        payload: { serverId: input.serverId, unknownAnswers: window.count, windowSeconds: ENUMERATION_WINDOW_SECONDS },
      });
    }
  });
}
