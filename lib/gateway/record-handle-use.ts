import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { systemActor, type TActor } from "@/lib/auth/actor";
import { getPrisma } from "@/lib/db/client";
import type { TTx } from "@/lib/db/types";
import { bufferHandleUse } from "./handle-use-buffer";
import { TERMINAL_STATUSES, type TUpstreamTask } from "./task-shape";
import type { TUsableHandle } from "./authorize-handle-use";

export type THandleUse = {
  actor: TActor;
  handle: TUsableHandle;
  operation: "tasks/get" | "tasks/result" | "tasks/cancel";
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
  const gateway = systemActor("gateway", actor.request.requestId);
  const from = handle.status;
  const to = observed?.status ?? from;
  const violation = observed !== null && to !== from && TERMINAL_STATUSES.has(from);
  const transition = observed !== null && to !== from && !violation;
  const auditUse = input.operation === "tasks/result" || (input.operation === "tasks/get" && handle.pollAuditEvery);

  const touch = async (db: TTx | ReturnType<typeof getPrisma>) => {
    if (transition) {
      // Guarded on the status read at authorization: of two racing observers, one writes the transition.
      return db.$executeRaw`
        UPDATE handle SET status = ${to}::"TaskStatus", status_message = ${observed?.statusMessage?.slice(0, 2000) ?? null},
               poll_interval_ms = COALESCE(${observed?.pollInterval ?? null}::int, poll_interval_ms),
               last_updated_at = now(), last_used_at = now(), use_count = use_count + 1
         WHERE id = ${handle.id}::uuid AND status = ${from}::"TaskStatus"`;
    }
    return db.$executeRaw`UPDATE handle SET last_used_at = now(), use_count = use_count + 1 WHERE id = ${handle.id}::uuid`;
  };

  if (!transition && !violation && !auditUse) {
    bufferHandleUse(handle.id); // the plain poll: counted in memory, written in batches
    return;
  }
  await getPrisma().$transaction(async (tx) => {
    const changed = await touch(tx);
    if (transition && changed === 1) {
      await recordAuditEvent(tx, {
        actor: gateway,
        action: "handle.status_changed",
        target: { type: "handle", id: handle.id },
        payload: { accessor: handle.accessor, from, to, statusMessage: observed?.statusMessage?.slice(0, 2000) ?? null, source: "gateway" },
      });
    }
    if (violation) {
      await recordAuditEvent(tx, {
        actor: gateway,
        action: "handle.upstream_violation",
        outcome: "error",
        target: { type: "handle", id: handle.id },
        reason: `The upstream reported ${to} for a task that was already ${from}; the handle keeps ${from}.`,
        payload: { accessor: handle.accessor, from, to },
      });
    }
    if (input.operation === "tasks/result") {
      await recordAuditEvent(tx, {
        actor,
        action: "handle.result_fetched",
        target: { type: "handle", id: handle.id },
        payload: { accessor: handle.accessor, status: transition ? to : from },
      });
    } else if (auditUse) {
      await recordAuditEvent(tx, {
        actor,
        action: "handle.polled",
        target: { type: "handle", id: handle.id },
        payload: { accessor: handle.accessor, operation: input.operation, status: transition ? to : from },
      });
    }
  });
}
