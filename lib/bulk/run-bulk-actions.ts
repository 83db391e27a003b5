import "server-only";
import { randomUUID } from "node:crypto";
import { recordAuditEvent, recordAuditEvents } from "@/lib/audit/record-audit-event";
import { systemActor, type TActor } from "@/lib/auth/actor";
import type { TRole } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db/client";
import { Prisma } from "@/lib/db/generated/client";
import type { TTx } from "@/lib/db/types";
import { settleGatewayCache } from "@/lib/gateway/gateway-cache";
import { TERMINAL_STATUSES } from "@/lib/handles/apply-observed-status";
import { CANCEL_LEASE_SECONDS, recordCancelOutcome, sendUpstreamCancel, type TCancelAttempt } from "@/lib/handles/cancel-handle";
import { describeErrorForLog, log } from "@/lib/log";
import type { TBulkItemResult, TBulkKind } from "./schemas";

// The bulk worker. A job (bulk_action) is leased in Postgres: a runner claims an approved job, or
// a running one whose lease ran out (its runner died), with FOR UPDATE SKIP LOCKED, so instances
// never run one job twice at once. It then works through the frozen items in order, one chunk per
// transaction: the chunk's handles change, their items record what happened, their audit events
// are written and the job's counters move, all in one commit. A crash loses at most the chunk in
// flight, which rolls back entirely; whoever takes the job over starts at the first item without
// a result, so no handle is revoked twice and none is skipped. Every chunk re-reads the job row
// under its lock: a job cancelled meanwhile, or taken over after a stall, stops at the chunk
// boundary.

/** How long a runner owns a job without showing progress. Renewed by every chunk; above the upstream's 30 s answer time for a chunk of cancels. */
export const BULK_LEASE_SECONDS = 60;
/** Handles per transaction: 1,000 revocations commit in about a tenth of a second. */
export const BULK_REVOKE_CHUNK = 1000;
/** Cancels per chunk, all sent upstream at once. */
export const BULK_CANCEL_CHUNK = 10;
/** Chunks that may fail in a row (each retried after a pause) before the job is marked failed. */
const MAX_FAILURES = 5;
/** A bulk cancel whose last cancels wait for their outcome (the cancel-retry worker owns them) is looked at again after this. */
const RECHECK_SECONDS = 5;
const IDLE_MS = 1_000;

export type TBulkRunHooks = {
  /**
   * Called inside each chunk's transaction after all its writes, before the commit. Tests throw
   * from it to simulate a process that dies mid-chunk: the error leaves runBulkActions as it is,
   * with nothing recorded, as a dead process records nothing.
   */
  beforeCommit?: (chunk: { jobId: string; index: number; ordinals: number[] }) => void | Promise<void>;
  /** Called once a chunk has committed and this process's gateway cache has seen it (tests and the bench check the gateway here). */
  afterCommit?: (chunk: { jobId: string; index: number; ordinals: number[] }) => void | Promise<void>;
};

export type TBulkRunOptions = {
  /** The lease holder's name (default: a fresh one per call). */
  owner?: string;
  /** Only this job. */
  jobId?: string;
  chunkSize?: number;
  /** Stop after this many chunks and keep the lease, as a process that died right after a commit would (tests). */
  maxChunks?: number;
  hooks?: TBulkRunHooks;
};

export type TBulkRunSummary = { jobs: number; chunks: number; items: number };

type TJob = {
  id: string;
  kind: TBulkKind;
  status: string;
  reason: string;
  requestId: string;
  requestedById: string;
  requestedByRole: TRole;
  principalKind: "user" | "service" | "system";
  principalName: string;
  count: number;
};

type TStep = { next: "continue" | "done" | "stop" | "deferred"; items: number; ordinals?: number[] };

class HookError extends Error {
  constructor(readonly original: unknown) {
    super("bulk run hook failed");
  }
}

/**
 * Runs due bulk jobs until none is left to claim (or `maxChunks` is reached). Returns what it did.
 * Errors of a chunk are recorded on the job (retried after a pause, failed after five in a row);
 * only a test hook's error leaves this function.
 */
export async function runBulkActions(options: TBulkRunOptions = {}): Promise<TBulkRunSummary> {
  const owner = options.owner ?? `bulk-${randomUUID()}`;
  const summary: TBulkRunSummary = { jobs: 0, chunks: 0, items: 0 };
  const seen = new Set<string>();
  for (;;) {
    const job = await claimJob(owner, options.jobId);
    if (!job || seen.has(job.id)) return summary;
    seen.add(job.id);
    summary.jobs++;
    try {
      const outcome = await runJob(job, owner, options, summary);
      if (outcome === "halted") return summary;
    } catch (err) {
      if (err instanceof HookError) throw err.original;
      throw err;
    }
    if (options.jobId) return summary;
  }
}

async function claimJob(owner: string, jobId: string | undefined): Promise<TJob | null> {
  return getPrisma().$transaction(async (tx) => {
    const [job] = await tx.$queryRaw<TJob[]>`
      SELECT b.id::text AS id, b.kind::text AS kind, b.status::text AS status, b.reason, b.request_id AS "requestId",
             b.requested_by_id::text AS "requestedById", b.requested_by_role AS "requestedByRole",
             p.kind::text AS "principalKind", p.name AS "principalName", b.expected_count AS count
        FROM bulk_action b JOIN principal p ON p.id = b.requested_by_id
       WHERE (b.status = 'approved' OR (b.status = 'running' AND (b.lease_until IS NULL OR b.lease_until < now())))
             ${jobId ? Prisma.sql`AND b.id = ${jobId}::uuid` : Prisma.empty}
       ORDER BY b.requested_at, b.id
       LIMIT 1
       FOR UPDATE OF b SKIP LOCKED`;
    if (!job) return null;
    await tx.$executeRaw`
      UPDATE bulk_action SET status = 'running', lease_owner = ${owner}, lease_until = now() + make_interval(secs => ${BULK_LEASE_SECONDS}),
             started_at = COALESCE(started_at, now()), updated_at = now()
       WHERE id = ${job.id}::uuid`;
    if (job.status === "approved") {
      await recordAuditEvent(tx, {
        actor: systemActor("bulk", job.requestId),
        action: "bulk.started",
        target: { type: "bulk_action", id: job.id },
        payload: { kind: job.kind, count: job.count },
      });
    }
    return job;
  });
}

/** The requester, in whose name (and with whose reason) every handle is revoked or cancelled. */
function requesterOf(job: TJob): TActor {
  const request = { requestId: job.requestId };
  return job.principalKind === "service"
    ? { type: "service", id: job.requestedById, role: job.requestedByRole, name: job.principalName, request }
    : { type: "user", id: job.requestedById, role: job.requestedByRole, name: job.principalName, email: null, request };
}

async function runJob(job: TJob, owner: string, options: TBulkRunOptions, summary: TBulkRunSummary): Promise<TStep["next"] | "halted" | "failed"> {
  const requester = requesterOf(job);
  let after = 0;
  for (let index = 0; ; index++) {
    if (options.maxChunks !== undefined && summary.chunks >= options.maxChunks) return "halted";
    let step: TStep;
    try {
      step =
        job.kind === "revoke"
          ? await revokeChunk(job, owner, requester, index, after, options)
          : await cancelChunk(job, owner, requester, index, after, options);
    } catch (err) {
      if (err instanceof HookError) throw err;
      await recordFailure(job, owner, err);
      return "failed";
    }
    summary.chunks++;
    summary.items += step.items;
    after = step.ordinals?.at(-1) ?? after;
    if (step.next !== "continue") return step.next;
  }
}

type TLockedJob = { status: string; leaseOwner: string | null };

/** Locks the job row for this chunk; null when the job is no longer this runner's to work on (cancelled, or taken over). */
async function lockOwnJob(tx: TTx, jobId: string, owner: string): Promise<TLockedJob | null> {
  const [row] = await tx.$queryRaw<TLockedJob[]>`SELECT status::text AS status, lease_owner AS "leaseOwner" FROM bulk_action WHERE id = ${jobId}::uuid FOR UPDATE`;
  return row && row.status === "running" && row.leaseOwner === owner ? row : null;
}

async function runHook(options: TBulkRunOptions, which: keyof TBulkRunHooks, chunk: { jobId: string; index: number; ordinals: number[] }) {
  const hook = options.hooks?.[which];
  if (!hook) return;
  try {
    await hook(chunk);
  } catch (err) {
    throw new HookError(err);
  }
}

type TItem = { ordinal: number; handleId: string; accessor: string };

/**
 * The next unprocessed items in order. `after` is the last ordinal this runner processed (0 at
 * its start): the scan starts there instead of stepping over every processed item's index entry
 * again, which kept chunk 100 of a 100,000-handle job as cheap as chunk 1.
 */
async function nextItems(tx: TTx, jobId: string, size: number, after: number): Promise<TItem[]> {
  return tx.$queryRaw<TItem[]>`
    SELECT ordinal, handle_id::text AS "handleId", accessor FROM bulk_action_item
     WHERE bulk_action_id = ${jobId}::uuid AND result IS NULL AND ordinal > ${after} ORDER BY ordinal LIMIT ${size}`;
}

// ---- revoke ----------------------------------------------------------------------------------

async function revokeChunk(job: TJob, owner: string, requester: TActor, index: number, after: number, options: TBulkRunOptions): Promise<TStep> {
  const step = await getPrisma().$transaction(
    async (tx): Promise<TStep> => {
      if (!(await lockOwnJob(tx, job.id, owner))) return { next: "stop", items: 0 };
      const items = await nextItems(tx, job.id, options.chunkSize ?? BULK_REVOKE_CHUNK, after);
      if (items.length === 0) {
        await finishJob(tx, job);
        return { next: "done", items: 0 };
      }
      const ids = items.map((i) => i.handleId);
      const ordinals = items.map((i) => i.ordinal);
      // The same guard as a single revoke: of a bulk job and a reviewer revoking one handle at
      // once, one does it (the other waits for the row lock and then finds it revoked).
      const revoked = await tx.$queryRaw<Array<{ id: string; accessor: string; serverId: string }>>`
        UPDATE handle SET revoked_at = now(), revoked_by_id = ${requester.id}::uuid, revoke_reason = ${job.reason}, revoke_trigger = 'bulk'
         WHERE id = ANY(${ids}::uuid[]) AND revoked_at IS NULL AND expires_at > now()
        RETURNING id::text AS id, accessor, server_id::text AS "serverId"`;
      await tx.$executeRaw`
        UPDATE bulk_action_item i
           SET result = (CASE WHEN i.handle_id = ANY(${revoked.map((r) => r.id)}::uuid[]) THEN 'revoked'
                              WHEN h.revoked_at IS NOT NULL THEN 'already_revoked' ELSE 'expired' END)::"BulkItemResult",
               processed_at = now()
          FROM handle h
         WHERE i.bulk_action_id = ${job.id}::uuid AND i.ordinal = ANY(${ordinals}::int[]) AND h.id = i.handle_id`;
      await recordAuditEvents(
        tx,
        revoked.map((h) => ({
          actor: requester,
          action: "handle.revoked" as const,
          target: { type: "handle", id: h.id },
          reason: job.reason,
          payload: { accessor: h.accessor, trigger: "bulk" as const, serverId: h.serverId, bulkActionId: job.id },
        })),
      );
      await addProgress(tx, job.id, { done: revoked.length, skipped: items.length - revoked.length, failed: 0 });
      await runHook(options, "beforeCommit", { jobId: job.id, index, ordinals });
      return { next: "continue", items: items.length, ordinals };
    },
    { timeout: 60_000, maxWait: 10_000 },
  );
  if (step.items > 0) {
    // The gateway's in-memory rows: this process has seen the chunk's revocations before the next one.
    await settleGatewayCache();
    await runHook(options, "afterCommit", { jobId: job.id, index, ordinals: step.ordinals ?? [] });
  }
  return step;
}

async function addProgress(tx: TTx, jobId: string, delta: { done: number; skipped: number; failed: number }) {
  await tx.$executeRaw`
    UPDATE bulk_action SET done_count = done_count + ${delta.done}, skipped_count = skipped_count + ${delta.skipped},
           failed_count = failed_count + ${delta.failed}, failures = 0, last_error = NULL,
           lease_until = now() + make_interval(secs => ${BULK_LEASE_SECONDS}), updated_at = now()
     WHERE id = ${jobId}::uuid`;
}

async function finishJob(tx: TTx, job: TJob) {
  const [row] = await tx.$queryRaw<Array<{ done: number; skipped: number; failed: number; elapsedMs: number }>>`
    UPDATE bulk_action SET status = 'completed', finished_at = now(), lease_owner = NULL, lease_until = NULL, updated_at = now()
     WHERE id = ${job.id}::uuid
    RETURNING done_count AS done, skipped_count AS skipped, failed_count AS failed,
              (extract(epoch FROM (finished_at - started_at)) * 1000)::int AS "elapsedMs"`;
  await recordAuditEvent(tx, {
    actor: systemActor("bulk", job.requestId),
    action: "bulk.completed",
    target: { type: "bulk_action", id: job.id },
    payload: { kind: job.kind, count: job.count, done: row!.done, skipped: row!.skipped, failed: row!.failed, elapsedMs: row!.elapsedMs ?? 0 },
  });
}

// ---- cancel ----------------------------------------------------------------------------------

type TCancelRow = { id: string; accessor: string; status: string; cancelState: string; revoked: boolean; expired: boolean };
type TClaimed = { id: string; lease: Date; attempt: number };

/**
 * One chunk of a bulk cancel, through the single cancel's machinery: (1) in one transaction,
 * under each handle's row lock, the state guard, `cancel_state = requested` with its lease and
 * `handle.cancel_requested`, and the items of handles that cannot be cancelled; (2) after commit,
 * tasks/cancel upstream for each, whose outcome and revocation commit together
 * (recordCancelOutcome); (3) the items take the outcome. A crash between (1) and (3) leaves items
 * "cancel sent": the cancel-retry worker finishes those handles when their lease runs out, and
 * this job takes their outcome when it next looks.
 */
async function cancelChunk(job: TJob, owner: string, requester: TActor, index: number, after: number, options: TBulkRunOptions): Promise<TStep> {
  const db = getPrisma();
  const claimed = await db.$transaction(
    async (tx): Promise<TStep & { claimed: TClaimed[] }> => {
      if (!(await lockOwnJob(tx, job.id, owner))) return { next: "stop", items: 0, claimed: [] };
      await settleCancelledItems(tx, job.id);
      const items = await nextItems(tx, job.id, options.chunkSize ?? BULK_CANCEL_CHUNK, after);
      if (items.length === 0) {
        const [pending] = await tx.$queryRaw<Array<{ n: number }>>`
          SELECT count(*)::int AS n FROM bulk_action_item WHERE bulk_action_id = ${job.id}::uuid AND result = 'cancel_requested'`;
        if (pending!.n === 0) {
          await finishJob(tx, job);
          return { next: "done", items: 0, claimed: [] };
        }
        // Outcomes still owed by the cancel-retry worker: release the job and look again soon.
        await tx.$executeRaw`
          UPDATE bulk_action SET lease_owner = NULL, lease_until = now() + make_interval(secs => ${RECHECK_SECONDS}), updated_at = now()
           WHERE id = ${job.id}::uuid`;
        return { next: "deferred", items: 0, claimed: [] };
      }
      const rows = await tx.$queryRaw<TCancelRow[]>`
        SELECT id::text AS id, accessor, status::text AS status, cancel_state::text AS "cancelState",
               revoked_at IS NOT NULL AS revoked, expires_at <= now() AS expired
          FROM handle WHERE id = ANY(${items.map((i) => i.handleId)}::uuid[]) ORDER BY id FOR UPDATE`;
      const byId = new Map(rows.map((r) => [r.id, r]));
      const outcome = new Map<string, { result: TBulkItemResult; detail: string | null }>();
      const claimable: string[] = [];
      for (const item of items) {
        const h = byId.get(item.handleId);
        if (!h) outcome.set(item.handleId, { result: "error", detail: "The handle no longer exists." });
        else if (h.revoked) outcome.set(h.id, { result: "already_revoked", detail: null });
        else if (h.expired) outcome.set(h.id, { result: "expired", detail: null });
        else if (TERMINAL_STATUSES.has(h.status)) outcome.set(h.id, { result: "not_cancellable", detail: `The task had already ended (${h.status}).` });
        else if (h.cancelState === "requested") outcome.set(h.id, { result: "not_cancellable", detail: "Another cancel of this task was in progress." });
        else {
          claimable.push(h.id);
          outcome.set(h.id, { result: "cancel_requested", detail: null });
        }
      }
      const claims = await tx.$queryRaw<TClaimed[]>`
        UPDATE handle SET cancel_state = 'requested', cancel_requested_at = now(), cancel_attempts = cancel_attempts + 1,
               cancel_next_attempt_at = now() + make_interval(secs => ${CANCEL_LEASE_SECONDS})
         WHERE id = ANY(${claimable}::uuid[])
        RETURNING id::text AS id, cancel_next_attempt_at AS lease, cancel_attempts AS attempt`;
      await recordAuditEvents(
        tx,
        claims.map((c) => ({
          actor: requester,
          action: "handle.cancel_requested" as const,
          target: { type: "handle", id: c.id },
          reason: job.reason,
          // via console: a bulk cancel is a console cancel, so the retry worker revokes in the requester's name.
          payload: { accessor: byId.get(c.id)!.accessor, via: "console" as const, bulkActionId: job.id },
        })),
      );
      const ordered = items.map((i) => ({ ordinal: i.ordinal, ...outcome.get(i.handleId)! }));
      await tx.$executeRaw`
        UPDATE bulk_action_item i SET result = v.result::"BulkItemResult", detail = v.detail,
               processed_at = CASE WHEN v.result = 'cancel_requested' THEN NULL ELSE now() END
          FROM unnest(${ordered.map((o) => o.ordinal)}::int[], ${ordered.map((o) => o.result)}::text[], ${ordered.map((o) => o.detail)}::text[]) AS v(ordinal, result, detail)
         WHERE i.bulk_action_id = ${job.id}::uuid AND i.ordinal = v.ordinal`;
      const skipped = ordered.filter((o) => o.result !== "cancel_requested" && o.result !== "error").length;
      const failed = ordered.filter((o) => o.result === "error").length;
      await addProgress(tx, job.id, { done: 0, skipped, failed });
      await runHook(options, "beforeCommit", { jobId: job.id, index, ordinals: items.map((i) => i.ordinal) });
      return { next: "continue", items: items.length, ordinals: items.map((i) => i.ordinal), claimed: claims };
    },
    { timeout: 60_000, maxWait: 10_000 },
  );
  if (claimed.claimed.length === 0) {
    if (claimed.items > 0) await runHook(options, "afterCommit", { jobId: job.id, index, ordinals: claimed.ordinals ?? [] });
    return claimed;
  }

  const attempts = await loadAttempts(claimed.claimed);
  const outcomeActor = systemActor("bulk", job.requestId);
  await Promise.all(
    attempts.map(async (attempt) => {
      try {
        const result = await sendUpstreamCancel(attempt);
        await recordCancelOutcome({
          attempt,
          result,
          outcomeActor,
          revoker: async () => ({ actor: requester, revokedById: requester.id, reason: job.reason }),
        });
      } catch (err) {
        // The handle keeps its lease: the cancel-retry worker sends it again when the lease runs out.
        log.error({ bulkActionId: job.id, accessor: attempt.accessor, err: describeErrorForLog(err) }, "bulk cancel: one cancel failed");
      }
    }),
  );
  await db.$transaction((tx) => settleCancelledItems(tx, job.id));
  await runHook(options, "afterCommit", { jobId: job.id, index, ordinals: claimed.ordinals ?? [] });
  return claimed;
}

/** Items whose cancel has its outcome recorded on the handle take it: result cancelled, with the outcome. */
async function settleCancelledItems(tx: TTx, jobId: string): Promise<void> {
  const settled = await tx.$executeRaw`
    UPDATE bulk_action_item i SET result = 'cancelled', cancel_outcome = h.cancel_state, processed_at = now(),
           detail = CASE h.cancel_state WHEN 'unreachable' THEN 'The upstream server was unreachable; Tether keeps retrying the cancel.'
                                        WHEN 'not_supported' THEN 'The upstream server does not support cancelling; the task may run on.'
                                        WHEN 'already_terminal' THEN 'The task had already ended upstream.' END
      FROM handle h
     WHERE i.bulk_action_id = ${jobId}::uuid AND i.result = 'cancel_requested' AND h.id = i.handle_id AND h.cancel_state <> 'requested'`;
  if (settled > 0) {
    await tx.$executeRaw`UPDATE bulk_action SET done_count = done_count + ${settled}, updated_at = now() WHERE id = ${jobId}::uuid`;
  }
}

async function loadAttempts(claims: TClaimed[]): Promise<TCancelAttempt[]> {
  const rows = await getPrisma().$queryRaw<
    Array<{
      id: string;
      accessor: string;
      sessionId: string | null;
      upstreamTaskIdEnc: string;
      serverId: string;
      slug: string;
      url: string;
      audience: string;
      credentialsEnc: string | null;
      upstreamSessionEnc: string | null;
      protocolVersion: string | null;
      wire: "core_2025_11_25" | "ext_2026_07_28";
    }>
  >`
    SELECT h.id::text AS id, h.accessor, h.session_id::text AS "sessionId", h.upstream_task_id_enc AS "upstreamTaskIdEnc",
           s.id::text AS "serverId", s.slug, s.url, s.audience, s.credentials_enc AS "credentialsEnc",
           g.upstream_session_enc AS "upstreamSessionEnc", g.protocol_version AS "protocolVersion", h.wire::text AS wire
      FROM handle h JOIN mcp_server s ON s.id = h.server_id LEFT JOIN gateway_session g ON g.id = h.session_id
     WHERE h.id = ANY(${claims.map((c) => c.id)}::uuid[])`;
  const claimOf = new Map(claims.map((c) => [c.id, c]));
  return rows.map((r) => ({
    id: r.id,
    accessor: r.accessor,
    sessionId: r.sessionId,
    upstreamTaskIdEnc: r.upstreamTaskIdEnc,
    server: { id: r.serverId, slug: r.slug, url: r.url, audience: r.audience, credentialsEnc: r.credentialsEnc },
    upstreamSessionEnc: r.upstreamSessionEnc,
    protocolVersion: r.protocolVersion,
    wire: r.wire,
    lease: claimOf.get(r.id)!.lease,
    attempt: claimOf.get(r.id)!.attempt,
  }));
}

// ---- failure ---------------------------------------------------------------------------------

/** A chunk failed: the job pauses (its lease is set to a backoff) and is retried, by any runner; after five failures in a row it is failed. */
async function recordFailure(job: TJob, owner: string, err: unknown): Promise<void> {
  const detail = describeErrorForLog(err);
  log.error({ bulkActionId: job.id, err: detail }, "bulk action chunk failed");
  try {
    await getPrisma().$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<Array<{ failures: number; processed: number }>>`
        UPDATE bulk_action SET failures = failures + 1, last_error = ${detail.message}, lease_owner = NULL,
               lease_until = now() + make_interval(secs => least(60, 2 ^ failures)), updated_at = now()
         WHERE id = ${job.id}::uuid AND status = 'running' AND lease_owner = ${owner}
        RETURNING failures, done_count + skipped_count + failed_count AS processed`;
      if (!row || row.failures < MAX_FAILURES) return;
      await tx.$executeRaw`UPDATE bulk_action SET status = 'failed', finished_at = now(), lease_until = NULL WHERE id = ${job.id}::uuid`;
      await recordAuditEvent(tx, {
        actor: systemActor("bulk", job.requestId),
        action: "bulk.failed",
        target: { type: "bulk_action", id: job.id },
        outcome: "error",
        payload: { kind: job.kind, count: job.count, processed: row.processed, error: `${detail.name}: ${detail.message}`.slice(0, 300) },
      });
    });
  } catch (again) {
    // The lease runs out by itself: the job is picked up again then.
    log.error({ bulkActionId: job.id, err: describeErrorForLog(again) }, "bulk action failure could not be recorded");
  }
}

// ---- the worker --------------------------------------------------------------------------------

/** The bulk worker of one process: runs jobs back to back while there are any, else looks every second. */
export function startBulkActionWorker(): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      let summary: TBulkRunSummary = { jobs: 0, chunks: 0, items: 0 };
      try {
        summary = await runBulkActions();
      } catch (err) {
        log.error({ err: describeErrorForLog(err) }, "bulk worker round failed");
      }
      if (summary.jobs > 0 && !stopped) continue;
      await new Promise((r) => setTimeout(r, IDLE_MS).unref());
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}
