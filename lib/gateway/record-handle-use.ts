import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import { gatewayCache } from "./gateway-cache";
import { bufferHandleUse } from "./handle-use-buffer";
import { applyObservedStatus } from "@/lib/handles/apply-observed-status";
import type { TUpstreamTask } from "./task-shape";
import type { TUsableHandle } from "./authorize-handle-use";

export type THandleUse = {
  actor: TActor;
  handle: TUsableHandle;
  /** `tasks/result` also stands for a 2026-07-28 `tasks/get` that delivered the result or error. */
  operation: "tasks/get" | "tasks/result" | "tasks/cancel" | "tasks/update";
  /** The task as the upstream reported it in this answer, when the answer carried one. */
  observed: Pick<TUpstreamTask, "status" | "statusMessage" | "pollInterval"> | null;
};

/**
 * Folds what a task call saw into the handle: last used and use count always; status, message
 * and poll interval when the upstream reported them. A status transition is audited (actor
 * `system`: the gateway observed it, the agent did not cause it) in the same transaction as the
 * update; an impossible one (a terminal task working again) leaves the handle as it was and is
 * audited as an upstream violation. Results and, when the policy says so, every poll are
 * audited as the agent's actions.
 */
export async function recordHandleUse(input: THandleUse): Promise<void> {
  const { handle, observed, actor } = input;
  const changes = observed !== null && observed.status !== handle.status;
  const auditUse = input.operation === "tasks/result" || (input.operation === "tasks/get" && handle.pollAuditEvery);
  if (!changes && !auditUse) {
    bufferHandleUse(handle.id); // the plain poll: counted in memory, written in batches
    return;
  }
  await getPrisma().$transaction(async (tx) => {
    const outcome = observed
      ? await applyObservedStatus(tx, { handle, observed, source: "gateway", requestId: actor.request.requestId, countUse: true, upstreamTaskId: handle.upstreamTaskId })
      : "unchanged";
    if (!observed) await tx.$executeRaw`UPDATE handle SET last_used_at = now(), use_count = use_count + 1 WHERE id = ${handle.id}::uuid`;
    const status = outcome === "transition" && observed ? observed.status : handle.status;
    if (input.operation === "tasks/result") {
      await recordAuditEvent(tx, { actor, action: "handle.result_fetched", target: { type: "handle", id: handle.id }, payload: { accessor: handle.accessor, status } });
    } else if (auditUse) {
      await recordAuditEvent(tx, {
        actor,
        action: "handle.polled",
        target: { type: "handle", id: handle.id },
        payload: { accessor: handle.accessor, operation: input.operation, status },
      });
    }
  });
  // This process's next call must see what it just wrote, before the notification arrives.
  gatewayCache()?.forgetRow("handle", handle.id);
}
