import "server-only";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { systemActor } from "@/lib/auth/actor";
import type { TTx } from "@/lib/db/types";

/** Statuses after which a task never changes again (spec: terminal), plus Tether's own "gone upstream". */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["completed", "failed", "cancelled", "expired_upstream"]);

export type TObservedStatus = { status: string; statusMessage?: string | undefined; pollInterval?: number | undefined };
export type TObservation = "transition" | "violation" | "unchanged" | "raced";

/**
 * Folds a status the upstream reported into a handle, in the caller's transaction: a transition
 * updates the handle (guarded on the status the caller read, so of two racing observers exactly
 * one writes it) and is audited as `handle.status_changed` by the system; an impossible one (a
 * terminal task reported as anything else) leaves the handle as it was and is audited as an
 * upstream violation; the same status only refreshes the message and poll interval, unaudited.
 * `countUse` also counts the call as a use of the handle (the gateway's observations).
 */
export async function applyObservedStatus(
  tx: TTx,
  input: {
    handle: { id: string; accessor: string; status: string };
    observed: TObservedStatus;
    source: "gateway" | "poller";
    requestId: string;
    countUse: boolean;
    /** The task's upstream id: never stored, so a status message that repeats it is scrubbed. */
    upstreamTaskId?: string;
  },
): Promise<TObservation> {
  const { handle, observed } = input;
  const actor = systemActor(input.source === "gateway" ? "gateway" : "status-sync", input.requestId);
  const from = handle.status;
  const to = observed.status;
  const message = scrubStatusMessage(observed.statusMessage, input.upstreamTaskId, handle.accessor);
  const interval = observed.pollInterval === undefined ? null : Math.min(Math.max(0, Math.round(observed.pollInterval)), 2_147_483_647);
  const use = input.countUse ? 1 : 0;

  if (to !== from && TERMINAL_STATUSES.has(from)) {
    await recordAuditEvent(tx, {
      actor,
      action: "handle.upstream_violation",
      outcome: "error",
      target: { type: "handle", id: handle.id },
      reason: `The upstream reported ${to} for a task that was already ${from}; the handle keeps ${from}.`,
      payload: { accessor: handle.accessor, from, to },
    });
    return "violation";
  }
  if (to === from) {
    await tx.$executeRaw`
      UPDATE handle SET status_message = ${message}, poll_interval_ms = COALESCE(${interval}::int, poll_interval_ms),
             last_used_at = CASE WHEN ${use}::int = 1 THEN now() ELSE last_used_at END, use_count = use_count + ${use}::int
       WHERE id = ${handle.id}::uuid AND (status_message IS DISTINCT FROM ${message} OR ${use}::int = 1)`;
    return "unchanged";
  }
  const changed = await tx.$executeRaw`
    UPDATE handle SET status = ${to}::"TaskStatus", status_message = ${message},
           poll_interval_ms = COALESCE(${interval}::int, poll_interval_ms), last_updated_at = now(),
           last_used_at = CASE WHEN ${use}::int = 1 THEN now() ELSE last_used_at END, use_count = use_count + ${use}::int
     WHERE id = ${handle.id}::uuid AND status = ${from}::"TaskStatus"`;
  if (changed !== 1) return "raced";
  await recordAuditEvent(tx, {
    actor,
    action: "handle.status_changed",
    target: { type: "handle", id: handle.id },
    payload: { accessor: handle.accessor, from, to, statusMessage: message, source: input.source },
  });
  return "transition";
}

/** A status message as stored and shown: bounded, with the task's upstream id replaced by its accessor. */
export function scrubStatusMessage(message: string | undefined, upstreamTaskId: string | undefined, accessor: string): string | null {
  if (message === undefined) return null;
  const scrubbed = upstreamTaskId && upstreamTaskId.length >= 4 ? message.split(upstreamTaskId).join(accessor) : message;
  return scrubbed.slice(0, 2000);
}
