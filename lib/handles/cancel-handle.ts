import "server-only";
import { setTimeout as delay } from "node:timers/promises";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { systemActor, type TActor } from "@/lib/auth/actor";
import { assertCan } from "@/lib/auth/assert-can";
import { decryptSecret } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import type { TTx } from "@/lib/db/types";
import { invalidInput } from "@/lib/errors";
import { settleGatewayCache } from "@/lib/gateway/gateway-cache";
import { upstreamTaskContext } from "@/lib/gateway/handle-token";
import { RPC_ERROR } from "@/lib/gateway/jsonrpc";
import { requestUpstream } from "@/lib/gateway/request-upstream";
import { upstreamSessionContext } from "@/lib/gateway/start-gateway-session";
import { ZUpstreamTask } from "@/lib/gateway/task-shape";
import { ownCallProtocolVersion, parseExtDetailedTask, type TTaskWire } from "@/lib/gateway/task-wire";
import { UpstreamError, type TUpstreamServer } from "@/lib/gateway/upstream";
import { describeErrorForLog, log } from "@/lib/log";
import { scrubStatusMessage, TERMINAL_STATUSES } from "./apply-observed-status";
import { getHandle, handleNotFound } from "./get-handle";
import { ZCancelHandleInput, type THandleDetailDto } from "./handle-detail-schemas";
import { describeHandleState, handleStateConflict, handleStateOf } from "./handle-state";

export type TConsoleCancelOutcome = "confirmed" | "already_terminal" | "not_supported" | "unreachable";

/**
 * How long one attempt owns a cancel. Set with the request (and with every retry claim), so a
 * process that dies between sending `tasks/cancel` and recording the answer leaves a cancel the
 * retry worker picks up once this runs out. Far above the 5 s an upstream gets to answer.
 */
export const CANCEL_LEASE_SECONDS = 60;
/** Attempts (the first included) before Tether stops retrying an unreachable upstream. */
export const CANCEL_MAX_ATTEMPTS = 10;
const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 5 * 60_000;
/** A second request for a cancel in flight waits this long for its outcome, to answer with the final state. */
const IN_FLIGHT_WAIT_MS = 8_000;

/** Delay before retry after the n-th failed attempt: 5 s, 10 s, 20 s … capped at 5 min, ±10 % jitter. */
export function cancelRetryDelayMs(attempt: number): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, Math.min(attempt - 1, 16)));
  return Math.round(base * (0.9 + Math.random() * 0.2));
}

/** One attempt's hold on a handle's cancel: what it needs to reach the upstream, and its lease. */
export type TCancelAttempt = {
  id: string;
  accessor: string;
  sessionId: string | null;
  upstreamTaskIdEnc: string;
  server: TUpstreamServer;
  upstreamSessionEnc: string | null;
  protocolVersion: string | null;
  wire: TTaskWire;
  /** The lease this attempt set: only the holder of this exact lease records the outcome. */
  lease: Date;
  attempt: number;
};

type TLockedRow = {
  id: string;
  accessor: string;
  status: string;
  cancelState: string;
  revokedAt: Date | null;
  revokeTrigger: string | null;
  expiresAt: Date;
};

/**
 * Support (or a reviewer, or an admin) cancels the task behind a live handle, with a reason. In
 * one transaction, under the handle's row lock: the state guard (a revoked, expired or ended
 * handle is a 409 naming its state), `cancel_state = requested` and `handle.cancel_requested`.
 * Then, after commit, `tasks/cancel` goes upstream with the server's own credentials on the
 * handle's upstream session, and the outcome (confirmed, already terminal, not supported,
 * unreachable) is recorded as its own event in the same transaction that revokes the handle
 * (trigger `cancel`). An unreachable upstream is retried with backoff by the cancel-retry worker.
 *
 * Of two requests at once (a double click, two support users), the second finds the cancel in
 * flight, waits for its outcome, and gets a 409 with that final state: one effect, one event.
 */
export async function cancelHandle(input: { actor: TActor; data: unknown }): Promise<THandleDetailDto> {
  const { actor } = input;
  assertCan(actor, "handles.read");
  const parsed = ZCancelHandleInput.safeParse(input.data);
  if (!parsed.success) throw invalidInput(parsed.error);
  const { accessor, reason } = parsed.data;
  const db = getPrisma();
  const found = await db.handle.findUnique({ where: { accessor }, select: { id: true } });
  if (!found) throw handleNotFound();
  assertCan(actor, "handles.cancel");

  const claim = await db.$transaction(async (tx) => {
    const row = await lockHandle(tx, found.id);
    const state = handleStateOf(row);
    if (state.lifecycle !== "live") throw handleStateConflict(state);
    if (row.cancelState === "requested") return null;
    const [claimed] = await tx.$queryRaw<Array<{ lease: Date; attempt: number }>>`
      UPDATE handle SET cancel_state = 'requested', cancel_requested_at = now(), cancel_attempts = cancel_attempts + 1,
             cancel_next_attempt_at = now() + make_interval(secs => ${CANCEL_LEASE_SECONDS})
       WHERE id = ${found.id}::uuid
      RETURNING cancel_next_attempt_at AS lease, cancel_attempts AS attempt`;
    await recordAuditEvent(tx, {
      actor,
      action: "handle.cancel_requested",
      target: { type: "handle", id: found.id },
      reason,
      payload: { accessor, via: "console" },
    });
    return claimed!;
  });

  if (!claim) {
    const state = await waitForCancelOutcome(found.id);
    throw handleStateConflict(state, `A cancel of this handle was already in progress. ${describeHandleState(state)}`);
  }

  const attempt = await loadCancelAttempt(found.id, claim);
  const result = await sendUpstreamCancel(attempt);
  const revokedById = actor.type === "system" ? null : actor.id;
  await recordCancelOutcome({
    attempt,
    result,
    outcomeActor: systemActor("cancel", actor.request.requestId),
    revoker: async () => ({ actor, revokedById, reason }),
  });
  return getHandle({ actor, accessor });
}

async function lockHandle(tx: TTx, id: string): Promise<TLockedRow> {
  const [row] = await tx.$queryRaw<TLockedRow[]>`
    SELECT id::text AS id, accessor, status::text AS status, cancel_state::text AS "cancelState", revoked_at AS "revokedAt",
           revoke_trigger AS "revokeTrigger", expires_at AS "expiresAt"
      FROM handle WHERE id = ${id}::uuid FOR UPDATE`;
  if (!row) throw handleNotFound();
  return row;
}

/** The in-flight cancel's final state, once its outcome is recorded (or after a bounded wait). */
async function waitForCancelOutcome(id: string) {
  const db = getPrisma();
  const deadline = Date.now() + IN_FLIGHT_WAIT_MS;
  for (;;) {
    const row = await db.handle.findUniqueOrThrow({
      where: { id },
      select: { accessor: true, status: true, cancelState: true, revokedAt: true, revokeTrigger: true, expiresAt: true },
    });
    if (row.cancelState !== "requested" || Date.now() > deadline) return handleStateOf(row);
    await delay(100);
  }
}

async function loadCancelAttempt(id: string, claim: { lease: Date; attempt: number }): Promise<TCancelAttempt> {
  const row = await getPrisma().handle.findUniqueOrThrow({
    where: { id },
    select: {
      accessor: true,
      sessionId: true,
      upstreamTaskIdEnc: true,
      wire: true,
      server: { select: { id: true, slug: true, url: true, audience: true, credentialsEnc: true } },
      session: { select: { upstreamSessionEnc: true, protocolVersion: true } },
    },
  });
  return {
    id,
    accessor: row.accessor,
    sessionId: row.sessionId,
    upstreamTaskIdEnc: row.upstreamTaskIdEnc,
    server: row.server,
    upstreamSessionEnc: row.session?.upstreamSessionEnc ?? null,
    protocolVersion: row.session?.protocolVersion ?? null,
    wire: row.wire,
    lease: claim.lease,
    attempt: claim.attempt,
  };
}

export type TCancelResult = { outcome: TConsoleCancelOutcome; observed: { status: string; statusMessage: string | null } | null };

/**
 * `tasks/cancel` upstream, as Tether itself: the server's configured credentials, the handle's own
 * upstream session, the upstream task id (decrypted here, never stored or logged in clear).
 * Never throws: whatever goes wrong is one of the four outcomes.
 */
export async function sendUpstreamCancel(attempt: TCancelAttempt): Promise<TCancelResult> {
  let upstreamTaskId: string;
  let call;
  try {
    upstreamTaskId = decryptSecret(attempt.upstreamTaskIdEnc, upstreamTaskContext(attempt.id));
    call = {
      server: attempt.server,
      sessionId: attempt.upstreamSessionEnc && attempt.sessionId ? decryptSecret(attempt.upstreamSessionEnc, upstreamSessionContext(attempt.sessionId)) : null,
      protocolVersion: ownCallProtocolVersion(attempt.wire, attempt.protocolVersion),
    };
  } catch (err) {
    log.error({ accessor: attempt.accessor, err: describeErrorForLog(err) }, "cancel: the handle's upstream ids cannot be decrypted");
    return { outcome: "unreachable", observed: null };
  }
  const scrub = (message: string | undefined) => scrubStatusMessage(message, upstreamTaskId, attempt.accessor);
  const ext = attempt.wire === "ext_2026_07_28";
  const taskOf = (result: Record<string, unknown>) => (ext ? parseExtDetailedTask(result) : (ZUpstreamTask.safeParse(result).data ?? null));
  try {
    const answer = await requestUpstream(call, "tasks/cancel", { taskId: upstreamTaskId });
    if ("result" in answer) {
      if (ext) {
        // The extension's cancel is an acknowledgement, and cancelling is eventually consistent:
        // ask how the task stands rather than assume it is cancelled already.
        const now = await requestUpstream(call, "tasks/get", { taskId: upstreamTaskId }).catch(() => null);
        const task = now && "result" in now ? taskOf(now.result) : null;
        return { outcome: "confirmed", observed: task ? { status: task.status, statusMessage: scrub(task.statusMessage) } : null };
      }
      const task = taskOf(answer.result);
      return { outcome: "confirmed", observed: { status: "cancelled", statusMessage: task ? scrub(task.statusMessage) : null } };
    }
    if (answer.error.code === RPC_ERROR.METHOD_NOT_FOUND) return { outcome: "not_supported", observed: null };
    if (answer.error.code === RPC_ERROR.INVALID_PARAMS) {
      // Ended already (or unknown upstream): ask how it ended, so the handle shows its final status.
      const final = await requestUpstream(call, "tasks/get", { taskId: upstreamTaskId }).catch(() => null);
      const task = final && "result" in final ? taskOf(final.result) : null;
      if (task) return { outcome: "already_terminal", observed: { status: task.status, statusMessage: scrub(task.statusMessage) } };
      if (final && "error" in final && final.error.code === RPC_ERROR.INVALID_PARAMS) {
        return { outcome: "already_terminal", observed: { status: "expired_upstream", statusMessage: "The upstream server no longer knows this task." } };
      }
      return { outcome: "already_terminal", observed: null };
    }
    return { outcome: "unreachable", observed: null };
  } catch (err) {
    // Streamable HTTP: 404 on a session id means the upstream ended that session; its tasks are gone.
    if (err instanceof UpstreamError && err.status === 404 && call.sessionId) {
      return { outcome: "already_terminal", observed: { status: "expired_upstream", statusMessage: "The upstream server no longer knows the session this task ran in." } };
    }
    if (!(err instanceof UpstreamError)) log.error({ accessor: attempt.accessor, err: describeErrorForLog(err) }, "cancel: tasks/cancel failed");
    return { outcome: "unreachable", observed: null };
  }
}

export type TRevoker = { actor: TActor; revokedById: string | null; reason: string };

/**
 * Records one attempt's outcome, if the attempt still holds its lease (else another attempt took
 * over and this one records nothing). In one transaction: the status the upstream reported (a
 * transition, audited), `cancel_state` and the next retry (unreachable: backoff, until the
 * attempts run out or the handle expires), `handle.cancel_outcome`, and the revocation
 * (trigger `cancel`) unless the handle is revoked or expired already. Returns whether it recorded.
 */
export async function recordCancelOutcome(input: {
  attempt: TCancelAttempt;
  result: TCancelResult;
  outcomeActor: TActor;
  revoker: (tx: TTx) => Promise<TRevoker>;
}): Promise<boolean> {
  const recorded = await recordOutcomeInTransaction(input);
  // The gateway's in-memory rows: this process has seen the revocation before we answer.
  if (recorded) await settleGatewayCache();
  return recorded;
}

async function recordOutcomeInTransaction(input: Parameters<typeof recordCancelOutcome>[0]): Promise<boolean> {
  const { attempt, result, outcomeActor } = input;
  return getPrisma().$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<Array<{ id: string; accessor: string; status: string; revokedAt: Date | null; lease: Date | null; serverId: string; live: boolean }>>`
      SELECT id::text AS id, accessor, status::text AS status, revoked_at AS "revokedAt", cancel_next_attempt_at AS lease,
             server_id::text AS "serverId", expires_at > now() AS live
        FROM handle WHERE id = ${attempt.id}::uuid FOR UPDATE`;
    if (!row || row.lease?.getTime() !== attempt.lease.getTime()) return false;

    const to = result.observed?.status;
    if (to && to !== row.status && !TERMINAL_STATUSES.has(row.status) && TERMINAL_STATUSES.has(to)) {
      await tx.$executeRaw`
        UPDATE handle SET status = ${to}::"TaskStatus", status_message = ${result.observed!.statusMessage}, last_updated_at = now()
         WHERE id = ${attempt.id}::uuid`;
      await recordAuditEvent(tx, {
        actor: outcomeActor,
        action: "handle.status_changed",
        target: { type: "handle", id: attempt.id },
        payload: { accessor: attempt.accessor, from: row.status, to, statusMessage: result.observed!.statusMessage, source: "cancel" },
      });
    }

    const retryMs = result.outcome === "unreachable" && attempt.attempt < CANCEL_MAX_ATTEMPTS ? cancelRetryDelayMs(attempt.attempt) : null;
    // No retry past the handle's expiry: the upstream task's TTL was clamped to it, so it is gone by then.
    const [updated] = await tx.$queryRaw<Array<{ next: Date | null }>>`
      UPDATE handle SET cancel_state = ${result.outcome}::"CancelState",
             cancel_next_attempt_at = CASE WHEN ${retryMs}::int IS NOT NULL AND now() + make_interval(secs => ${retryMs}::int / 1000.0) < expires_at
                                           THEN now() + make_interval(secs => ${retryMs}::int / 1000.0) END
       WHERE id = ${attempt.id}::uuid
      RETURNING cancel_next_attempt_at AS next`;
    const ok = result.outcome === "confirmed" || result.outcome === "already_terminal";
    await recordAuditEvent(tx, {
      actor: outcomeActor,
      action: "handle.cancel_outcome",
      outcome: ok ? "ok" : "error",
      target: { type: "handle", id: attempt.id },
      payload: { accessor: attempt.accessor, outcome: result.outcome, attempt: attempt.attempt, via: "console", nextAttemptAt: updated?.next?.toISOString() ?? null },
    });

    if (!row.revokedAt && row.live) {
      const revoker = await input.revoker(tx);
      await tx.$executeRaw`
        UPDATE handle SET revoked_at = now(), revoked_by_id = ${revoker.revokedById}::uuid, revoke_reason = ${revoker.reason}, revoke_trigger = 'cancel'
         WHERE id = ${attempt.id}::uuid`;
      await recordAuditEvent(tx, {
        actor: revoker.actor,
        action: "handle.revoked",
        target: { type: "handle", id: attempt.id },
        reason: revoker.reason,
        payload: { accessor: attempt.accessor, trigger: "cancel", serverId: row.serverId },
      });
    }
    return true;
  });
}
