import "server-only";
import { randomUUID } from "node:crypto";
import { systemActor } from "@/lib/auth/actor";
import { getPool } from "@/lib/db/client";
import type { TTx } from "@/lib/db/types";
import { describeErrorForLog, log } from "@/lib/log";
import { CANCEL_LEASE_SECONDS, recordCancelOutcome, sendUpstreamCancel, type TCancelAttempt, type TRevoker } from "./cancel-handle";

const BATCH = 20;
const IDLE_MS = 1_000;

type TClaimed = {
  id: string;
  accessor: string;
  session_id: string | null;
  upstream_task_id_enc: string;
  lease: Date;
  attempt: number;
  server_id: string;
  slug: string;
  url: string;
  audience: string;
  credentials_enc: string | null;
  upstream_session_enc: string | null;
  protocol_version: string | null;
  wire: "core_2025_11_25" | "ext_2026_07_28";
};

/**
 * One round of the cancel-retry worker: claims console cancels that are due (an unreachable
 * upstream's backoff has run out, or an attempt's lease expired because its process died) under
 * FOR UPDATE SKIP LOCKED, moving each one's lease forward in the same statement, so several
 * processes share the work and no cancel is sent twice at once. Each claimed cancel is sent again
 * and its outcome recorded (`handle.cancel_outcome`, actor system); a handle not revoked yet (its
 * first attempt died before recording anything) is revoked then, in the requester's name.
 * Returns how many it claimed.
 */
export async function retryDueCancels(options: { limit?: number } = {}): Promise<number> {
  const { rows } = await getPool().query<TClaimed>(
    `UPDATE handle h SET cancel_next_attempt_at = now() + make_interval(secs => $2), cancel_attempts = h.cancel_attempts + 1
       FROM mcp_server s
      WHERE h.id IN (SELECT id FROM handle
                      WHERE cancel_next_attempt_at <= now() AND cancel_state IN ('requested', 'unreachable')
                      ORDER BY cancel_next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        AND s.id = h.server_id
    RETURNING h.id::text AS id, h.accessor, h.session_id::text AS session_id, h.upstream_task_id_enc, h.cancel_next_attempt_at AS lease,
              h.cancel_attempts AS attempt, s.id::text AS server_id, s.slug, s.url, s.audience, s.credentials_enc,
              (SELECT g.upstream_session_enc FROM gateway_session g WHERE g.id = h.session_id) AS upstream_session_enc,
              (SELECT g.protocol_version FROM gateway_session g WHERE g.id = h.session_id) AS protocol_version, h.wire::text AS wire`,
    [options.limit ?? BATCH, CANCEL_LEASE_SECONDS],
  );
  await Promise.all(
    rows.map(async (r) => {
      const attempt: TCancelAttempt = {
        id: r.id,
        accessor: r.accessor,
        sessionId: r.session_id,
        upstreamTaskIdEnc: r.upstream_task_id_enc,
        server: { id: r.server_id, slug: r.slug, url: r.url, audience: r.audience, credentialsEnc: r.credentials_enc },
        upstreamSessionEnc: r.upstream_session_enc,
        protocolVersion: r.protocol_version,
        wire: r.wire,
        lease: r.lease,
        attempt: r.attempt,
      };
      const actor = systemActor("cancel-retry", `cancel-retry-${randomUUID()}`);
      try {
        const result = await sendUpstreamCancel(attempt);
        await recordCancelOutcome({ attempt, result, outcomeActor: actor, revoker: (tx) => requesterOf(tx, r.id, actor) });
      } catch (err) {
        // The lease stays: the cancel comes due again when it runs out.
        log.error({ accessor: r.accessor, err: describeErrorForLog(err) }, "cancel retry failed");
      }
    }),
  );
  return rows.length;
}

/** The revocation a retried cancel owes: by the system, in the name and with the reason of whoever asked. */
async function requesterOf(tx: TTx, handleId: string, actor: TRevoker["actor"]): Promise<TRevoker> {
  const [request] = await tx.$queryRaw<Array<{ actorId: string | null; actorType: string; reason: string | null }>>`
    SELECT actor_id AS "actorId", actor_type::text AS "actorType", reason FROM audit_event
     WHERE target_type = 'handle' AND target_id = ${handleId} AND action = 'handle.cancel_requested' AND payload->>'via' = 'console'
     ORDER BY seq DESC LIMIT 1`;
  return {
    actor,
    revokedById: request && request.actorType !== "system" ? request.actorId : null,
    reason: request?.reason ?? "Cancelled from the console.",
  };
}

/** The cancel-retry worker of one process: rounds back to back while there is work, else every IDLE_MS. */
export function startCancelRetryWorker(): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      let claimed = 0;
      try {
        claimed = await retryDueCancels();
      } catch (err) {
        log.error({ err: describeErrorForLog(err) }, "cancel retry round failed");
      }
      if (claimed > 0 && !stopped) continue;
      await new Promise((r) => setTimeout(r, IDLE_MS).unref());
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}
