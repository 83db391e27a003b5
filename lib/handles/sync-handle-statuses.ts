import "server-only";
import { randomUUID } from "node:crypto";
import { decryptSecret } from "@/lib/crypto/secrets";
import { getPool, getPrisma } from "@/lib/db/client";
import { upstreamTaskContext } from "@/lib/gateway/handle-token";
import { requestUpstream } from "@/lib/gateway/request-upstream";
import { upstreamSessionContext } from "@/lib/gateway/start-gateway-session";
import { ZUpstreamTask } from "@/lib/gateway/task-shape";
import { observedOf, ownCallProtocolVersion, parseExtDetailedTask, type TTaskWire } from "@/lib/gateway/task-wire";
import { UpstreamError, type TUpstreamCall } from "@/lib/gateway/upstream";
import { describeErrorForLog, log } from "@/lib/log";
import { metrics } from "@/lib/metrics/registry";
import { applyObservedStatus, scrubStatusMessage, type TObservedStatus } from "./apply-observed-status";

/** How long a claimed handle stays the claimant's: a crashed worker's share is picked up after this. */
export const POLL_LEASE_SECONDS = 30;
// Large enough that one round spans many upstream sessions at once (their listings run in
// parallel, up to each server's concurrency cap).
const BATCH = 1000;
/** Siblings claimed with a round's due handles, at most (see claimListedSiblings). */
const MAX_SIBLINGS = 4000;

type TClaimed = {
  id: string;
  accessor: string;
  status: string;
  server_id: string;
  session_id: string | null;
  upstream_task_id_enc: string;
  poll_interval_ms: number | null;
  poll_failures: number;
  slug: string;
  url: string;
  audience: string;
  credentials_enc: string | null;
  poll_min_ms: number;
  poll_max_ms: number;
  poll_concurrency: number;
  can_list: boolean;
  upstream_session_enc: string | null;
  protocol_version: string | null;
  wire: TTaskWire;
};

export type TSyncRound = { claimed: number; polled: number; transitions: number; failures: number };

const CLAIMED_COLUMNS = `h.id::text AS id, h.accessor, h.status::text AS status, h.server_id::text AS server_id, h.session_id::text AS session_id,
              h.upstream_task_id_enc, h.poll_interval_ms, h.poll_failures, s.slug, s.url, s.audience, s.credentials_enc,
              s.poll_min_ms, s.poll_max_ms, s.poll_concurrency, COALESCE((s.capabilities->'tasks'->>'list')::boolean, false) AS can_list,
              (SELECT g.upstream_session_enc FROM gateway_session g WHERE g.id = h.session_id) AS upstream_session_enc,
              (SELECT g.protocol_version FROM gateway_session g WHERE g.id = h.session_id) AS protocol_version,
              h.wire::text AS wire`;

/**
 * A `tasks/list` answers for every task of its upstream session, so a session listed for its due
 * handles refreshes the others too: the live handles of those sessions that are not leased and
 * were not polled within three quarters of their interval are claimed with them. Each session is
 * then listed about once per interval instead of once per handle falling due, which is what the
 * upstreams' CPU, not Tether's, otherwise limits (a listing of 100 tasks costs a demo upstream
 * about 8 ms).
 */
async function claimListedSiblings(due: TClaimed[]): Promise<TClaimed[]> {
  const sessions = [...new Set(due.filter((h) => h.can_list && h.session_id).map((h) => h.session_id!))];
  if (sessions.length === 0) return [];
  const { rows } = await getPool().query<TClaimed>(
    `UPDATE handle h SET poll_lease_until = now() + make_interval(secs => $2)
       FROM mcp_server s
      WHERE h.id IN (SELECT h2.id FROM handle h2 JOIN mcp_server s2 ON s2.id = h2.server_id
                      WHERE h2.session_id = ANY($1::uuid[])
                        AND h2.status IN ('working', 'input_required') AND h2.revoked_at IS NULL AND h2.expires_at > now()
                        AND (h2.poll_lease_until IS NULL OR h2.poll_lease_until <= now())
                        AND (h2.last_polled_at IS NULL
                             OR h2.last_polled_at <= now() - make_interval(secs => GREATEST(s2.poll_min_ms, COALESCE(h2.poll_interval_ms, s2.poll_min_ms)) * 0.75 / 1000))
                        AND s2.enabled AND s2.removed_at IS NULL AND NOT s2.polling_paused
                      LIMIT $3
                      FOR UPDATE OF h2 SKIP LOCKED)
        AND s.id = h.server_id
    RETURNING ${CLAIMED_COLUMNS}`,
    [sessions, POLL_LEASE_SECONDS, MAX_SIBLINGS],
  );
  return rows;
}

/**
 * One round of the status-sync worker: claims live, non-terminal handles that are due (at
 * enabled, unpaused servers), asks each upstream `tasks/get` on the handle's own upstream
 * session, and folds the answer into the handle (transitions audited, actor `system`). Claiming
 * sets a lease (`poll_lease_until`) under FOR UPDATE SKIP LOCKED, so any number of worker
 * processes share the work and none polls a handle another is polling; a crashed worker's claims
 * come due again after the lease. The next poll honours the task's `pollInterval`, clamped to the
 * server's minimum and maximum, with ±10 % jitter; failures back off exponentially up to the
 * maximum. An upstream that no longer knows the task marks the handle `expired_upstream`. The
 * lease is its own column, so an early-poll hint (next_poll_at = now) never cuts a claim short.
 */
export async function syncHandleStatuses(options: { limit?: number } = {}): Promise<TSyncRound> {
  const { rows: due } = await getPool().query<TClaimed>(
    `UPDATE handle h SET poll_lease_until = now() + make_interval(secs => $2)
       FROM mcp_server s
      WHERE h.id IN (SELECT h2.id FROM handle h2 JOIN mcp_server s2 ON s2.id = h2.server_id
                      WHERE h2.status IN ('working', 'input_required') AND h2.revoked_at IS NULL AND h2.expires_at > now()
                        AND (h2.next_poll_at IS NULL OR h2.next_poll_at <= now())
                        AND (h2.poll_lease_until IS NULL OR h2.poll_lease_until <= now())
                        AND s2.enabled AND s2.removed_at IS NULL AND NOT s2.polling_paused
                        -- a 2025-11-25 task is reachable only in its upstream session; a 2026-07-28 one has none
                        AND (h2.session_id IS NOT NULL OR h2.wire = 'ext_2026_07_28')
                      ORDER BY h2.next_poll_at NULLS FIRST
                      LIMIT $1
                      FOR UPDATE OF h2 SKIP LOCKED)
        AND s.id = h.server_id
    RETURNING ${CLAIMED_COLUMNS}`,
    [options.limit ?? BATCH, POLL_LEASE_SECONDS],
  );
  const claimed = [...due, ...(await claimListedSiblings(due))];
  const round: TSyncRound = { claimed: claimed.length, polled: 0, transitions: 0, failures: 0 };
  const count = (outcome: TPollOutcome | null) => {
    if (outcome === null) return; // counted when the round's batch is written
    metrics().statusPolls.inc({ outcome });
    round.polled++;
    if (outcome === "transition") round.transitions++;
    if (outcome === "failed") round.failures++;
  };
  // Per server, a queue of jobs run at most poll_concurrency at a time. Where the upstream lists
  // tasks, several handles of one upstream session are refreshed by one tasks/list (an upstream
  // answers a few hundred calls a second, so one request per handle does not scale); a lone
  // handle, or a server without tasks/list, gets its own tasks/get.
  const byServer = new Map<string, TClaimed[]>();
  for (const h of claimed) byServer.set(h.server_id, [...(byServer.get(h.server_id) ?? []), h]);
  // The common outcomes of the whole round, listed or polled one by one, are written at its end
  // in one statement each: an unchanged status (nothing to audit) and a failed poll. Only a
  // transition takes a transaction of its own (it is audited). A round of 1,000 handles is then
  // two or three statements, not 1,000 transactions.
  const batch: TRoundBatch = { unchanged: [], failed: [] };
  await Promise.all(
    [...byServer.values()].map(async (handles) => {
      const jobs: Array<() => Promise<void>> = [];
      const bySession = new Map<string, TClaimed[]>();
      for (const h of handles) bySession.set(h.session_id ?? h.id, [...(bySession.get(h.session_id ?? h.id) ?? []), h]);
      for (const group of bySession.values()) {
        if (group.length > 1 && group[0]!.can_list) jobs.push(async () => (await refreshByList(group, batch)).forEach(count));
        else for (const h of group) jobs.push(async () => count(await pollOne(h, batch)));
      }
      const lanes = Math.max(1, Math.min(handles[0]!.poll_concurrency, jobs.length));
      await Promise.all(
        Array.from({ length: lanes }, async () => {
          for (let job = jobs.shift(); job; job = jobs.shift()) await job();
        }),
      );
    }),
  );
  if (batch.unchanged.length) (await recordUnchanged(batch.unchanged)).forEach(count);
  if (batch.failed.length) (await recordFailed(batch.failed)).forEach(count);
  return round;
}

type TUnchanged = { h: TClaimed; observed: TObservedStatus; upstreamTaskId: string };
type TRoundBatch = { unchanged: TUnchanged[]; failed: TClaimed[] };

/** What a poll came to; null when its write waits for the end of the round (TRoundBatch). */
type TPollOutcome = "transition" | "unchanged" | "failed";

function upstreamCall(h: TClaimed): TUpstreamCall {
  return {
    server: { id: h.server_id, slug: h.slug, url: h.url, audience: h.audience, credentialsEnc: h.credentials_enc },
    sessionId: h.upstream_session_enc && h.session_id ? decryptSecret(h.upstream_session_enc, upstreamSessionContext(h.session_id)) : null,
    protocolVersion: ownCallProtocolVersion(h.wire, h.protocol_version),
  };
}

const SESSION_GONE: TObservedStatus = { status: "expired_upstream", statusMessage: "The upstream server no longer knows the session this task ran in." };
const TASK_GONE: TObservedStatus = { status: "expired_upstream", statusMessage: "The upstream server no longer knows this task." };
const MAX_LIST_PAGES = 20;

/**
 * One upstream session's handles refreshed by `tasks/list` (all pages, up to a bound). A handle
 * whose task is missing from a complete listing is gone upstream; if the listing fails or is cut
 * short, the handles fall back to their own tasks/get.
 */
async function refreshByList(group: TClaimed[], batch: TRoundBatch): Promise<Array<TPollOutcome | null>> {
  const call = upstreamCall(group[0]!);
  const seen = new Map<string, TObservedStatus>();
  let complete = false;
  try {
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const answer = await requestUpstream(call, "tasks/list", cursor ? { cursor } : {});
      if (!("result" in answer)) break;
      const tasks = Array.isArray(answer.result.tasks) ? answer.result.tasks : [];
      for (const t of tasks) {
        const task = ZUpstreamTask.safeParse(t);
        if (task.success) seen.set(task.data.taskId, task.data);
      }
      cursor = typeof answer.result.nextCursor === "string" ? answer.result.nextCursor : undefined;
      if (!cursor) {
        complete = true;
        break;
      }
    }
  } catch (err) {
    if (err instanceof UpstreamError && err.status === 404 && call.sessionId) return Promise.all(group.map((h) => recordPoll(h, SESSION_GONE)));
    if (!(err instanceof UpstreamError)) log.error({ err: describeErrorForLog(err) }, "Status listing failed");
  }
  const outcomes: Array<Promise<TPollOutcome | null>> = [];
  for (const h of group) {
    const upstreamTaskId = decryptSecret(h.upstream_task_id_enc, upstreamTaskContext(h.id));
    const observed = seen.get(upstreamTaskId);
    if (observed && observed.status === h.status) batch.unchanged.push({ h, observed, upstreamTaskId });
    else if (observed) outcomes.push(recordPoll(h, observed));
    else outcomes.push(complete ? recordPoll(h, TASK_GONE) : pollOne(h, batch));
  }
  return Promise.all(outcomes);
}

/**
 * The common case of a round, written for all such handles in one statement: the status did not
 * change, so there is nothing to audit, only the message, the poll time and the next poll. A
 * handle whose status another writer moved meanwhile (the gateway's own observation) keeps the
 * message that writer stored; its lease is released all the same.
 */
async function recordUnchanged(rows: TUnchanged[]): Promise<TPollOutcome[]> {
  await getPool().query(
    `UPDATE handle SET status_message = CASE WHEN handle.status::text = v.status THEN v.message ELSE handle.status_message END,
            poll_interval_ms = CASE WHEN handle.status::text = v.status THEN COALESCE(v.interval, handle.poll_interval_ms) ELSE handle.poll_interval_ms END,
            last_polled_at = now(), poll_failures = 0, poll_lease_until = NULL,
            next_poll_at = now() + make_interval(secs => v.delay_ms::double precision / 1000)
       FROM unnest($1::uuid[], $2::text[], $3::int[], $4::int[], $5::text[]) AS v(id, message, interval, delay_ms, status)
      WHERE handle.id = v.id`,
    [
      rows.map(({ h }) => h.id),
      rows.map(({ h, observed, upstreamTaskId }) => scrubStatusMessage(observed.statusMessage, upstreamTaskId, h.accessor)),
      rows.map(({ observed }) => (observed.pollInterval === undefined ? null : Math.min(Math.max(0, Math.round(observed.pollInterval)), 2_147_483_647))),
      rows.map(({ h, observed }) => nextDelayMs(h, observed.pollInterval ?? null, 0)),
      rows.map(({ h }) => h.status),
    ],
  );
  return rows.map(() => "unchanged");
}

/** Failed polls of a round (the upstream did not answer usably): back off, in one statement. */
async function recordFailed(rows: TClaimed[]): Promise<TPollOutcome[]> {
  await getPool().query(
    `UPDATE handle SET poll_failures = handle.poll_failures + 1, poll_lease_until = NULL,
            next_poll_at = now() + make_interval(secs => v.delay_ms::double precision / 1000)
       FROM unnest($1::uuid[], $2::int[]) AS v(id, delay_ms)
      WHERE handle.id = v.id`,
    [rows.map((h) => h.id), rows.map((h) => nextDelayMs(h, null, h.poll_failures + 1))],
  );
  return rows.map(() => "failed");
}

function nextDelayMs(h: TClaimed, pollInterval: number | null, failures: number): number {
  const base = failures > 0 ? h.poll_min_ms * 2 ** Math.min(failures, 16) : (pollInterval ?? h.poll_interval_ms ?? h.poll_min_ms);
  const clamped = Math.min(Math.max(base, h.poll_min_ms), h.poll_max_ms);
  return Math.round(clamped * (0.9 + Math.random() * 0.2));
}

async function pollOne(h: TClaimed, batch: TRoundBatch): Promise<TPollOutcome | null> {
  const requestId = `sync-${randomUUID()}`;
  const call = upstreamCall(h);
  const upstreamTaskId = decryptSecret(h.upstream_task_id_enc, upstreamTaskContext(h.id));
  let observed: TObservedStatus | null = null;
  try {
    const answer = await requestUpstream(call, "tasks/get", { taskId: upstreamTaskId });
    if ("result" in answer) {
      const task = h.wire === "ext_2026_07_28" ? parseExtDetailedTask(answer.result) : (ZUpstreamTask.safeParse(answer.result).data ?? null);
      if (task) observed = observedOf(task);
      else log.warn({ requestId, accessor: h.accessor }, "Upstream answered tasks/get with something that is not a task");
    } else if (answer.error.code === -32602) {
      observed = TASK_GONE;
    }
  } catch (err) {
    // Streamable HTTP: 404 on a session id means the upstream ended that session (a restart, an
    // idle reaper); the tasks that lived in it cannot be reached again.
    if (err instanceof UpstreamError && err.status === 404 && call.sessionId) observed = SESSION_GONE;
    else if (!(err instanceof UpstreamError)) log.error({ requestId, err: describeErrorForLog(err) }, "Status poll failed");
  }
  if (!observed) batch.failed.push(h);
  else if (observed.status === h.status) batch.unchanged.push({ h, observed, upstreamTaskId });
  else return recordPoll(h, observed);
  return null;
}

/** Folds one poll's answer that may change the status into the handle (audited) and schedules its next poll. */
async function recordPoll(h: TClaimed, observed: TObservedStatus): Promise<TPollOutcome> {
  const requestId = `sync-${randomUUID()}`;
  const outcome = await getPrisma().$transaction(async (tx) => {
    const result = await applyObservedStatus(tx, {
      handle: h,
      observed,
      source: "poller",
      requestId,
      countUse: false,
      upstreamTaskId: decryptSecret(h.upstream_task_id_enc, upstreamTaskContext(h.id)),
    });
    await tx.$executeRaw`
      UPDATE handle SET last_polled_at = now(), poll_failures = 0, poll_lease_until = NULL,
             next_poll_at = now() + make_interval(secs => ${nextDelayMs(h, observed.pollInterval ?? null, 0)}::double precision / 1000)
       WHERE id = ${h.id}::uuid`;
    return result;
  });
  return outcome === "transition" ? "transition" : "unchanged";
}
