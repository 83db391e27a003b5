import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { systemActor, type TActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import type { TUsableHandle } from "./authorize-handle-use";
import { gatewayCache } from "./gateway-cache";

export type TCancelOutcome = "confirmed" | "already_terminal" | "not_supported" | "unreachable";

/** An agent's tasks/cancel, before it is forwarded: the request is on record even if the upstream never answers. */
export async function recordAgentCancelRequested(input: { actor: TActor; handle: TUsableHandle }): Promise<number> {
  const { actor, handle } = input;
  return getPrisma().$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<Array<{ attempts: number }>>`
      UPDATE handle SET cancel_state = 'requested', cancel_requested_at = COALESCE(cancel_requested_at, now()),
             cancel_attempts = cancel_attempts + 1, last_used_at = now(), use_count = use_count + 1
       WHERE id = ${handle.id}::uuid RETURNING cancel_attempts AS attempts`;
    await recordAuditEvent(tx, {
      actor,
      action: "handle.cancel_requested",
      target: { type: "handle", id: handle.id },
      payload: { accessor: handle.accessor, via: "agent" },
    });
    return row?.attempts ?? 1;
  });
}

/**
 * What the upstream made of the cancel, recorded separately from the request. A confirmed cancel
 * moves the handle to `cancelled` (audited as a transition); the handle stays usable for
 * tasks/get so the agent can see the final state.
 */
export async function recordAgentCancelOutcome(input: { actor: TActor; handle: TUsableHandle; outcome: TCancelOutcome; attempt: number }): Promise<void> {
  const { actor, handle, outcome } = input;
  const gateway = systemActor("gateway", actor.request.requestId);
  await getPrisma().$transaction(async (tx) => {
    const moved =
      outcome === "confirmed" && handle.status !== "cancelled"
        ? await tx.$executeRaw`
            UPDATE handle SET status = 'cancelled', cancel_state = 'confirmed', last_updated_at = now()
             WHERE id = ${handle.id}::uuid AND status IN ('working', 'input_required')`
        : 0;
    if (moved === 0) await tx.$executeRaw`UPDATE handle SET cancel_state = ${outcome}::"CancelState" WHERE id = ${handle.id}::uuid`;
    if (moved === 1) {
      await recordAuditEvent(tx, {
        actor: gateway,
        action: "handle.status_changed",
        target: { type: "handle", id: handle.id },
        payload: { accessor: handle.accessor, from: handle.status, to: "cancelled", statusMessage: null, source: "gateway" },
      });
    }
    await recordAuditEvent(tx, {
      actor: gateway,
      action: "handle.cancel_outcome",
      outcome: outcome === "confirmed" || outcome === "already_terminal" ? "ok" : "error",
      target: { type: "handle", id: handle.id },
      payload: { accessor: handle.accessor, outcome, attempt: input.attempt },
    });
  });
  gatewayCache()?.forgetRow("handle", handle.id); // this process's next call sees the new status at once
}
