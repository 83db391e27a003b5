import { EVENT_IN_PERIOD, SEALED } from "./sql";
import { num, type TInterpretation, type TMeasuredControl } from "./types";

// Stored safely: the token only as its keyed hash (HMAC-SHA256, 43 base64url characters) and as an
// AES-GCM envelope ("v1."), the upstream task id only as an envelope. A leak: a string shaped like
// a handle token (tht_ + 43) or an API key (tth_<8 hex>_<43>) in an audit record or a status
// message. Logs outside the database are not reachable from here and are not scanned.
const TOKEN_SHAPE = "'tht_[A-Za-z0-9_-]{43}|tth_[0-9a-f]{8}_[A-Za-z0-9_-]{43}'";
// 43 base64url characters, checked with ltrim (much cheaper than a regular expression per handle).
const UNPROTECTED =
  "NOT (length(h.token_hash) = 43 AND h.token_hash NOT LIKE 'tht\\_%' AND h.token_enc LIKE 'v1.%' AND h.upstream_task_id_enc LIKE 'v1.%')";
const LEAKING_MESSAGE = `h.status_message ~ ${TOKEN_SHAPE}`;
// The cheap substring tests first (one jsonb-to-text per event, in t.payload), the pattern only on
// what they let through: CASE fixes that order (the planner may reorder plain AND-ed conditions).
const LEAKING_EVENT = `CASE WHEN strpos(t.payload, 'tht_') > 0 OR strpos(t.payload, 'tth_') > 0 OR strpos(t.other, 'tht_') > 0 OR strpos(t.other, 'tth_') > 0
             THEN concat_ws(' ', t.payload, t.other) ~ ${TOKEN_SHAPE} ELSE false END`;
// The high-volume lifecycle events whose payload schemas (lib/audit/events.ts, applied at write,
// unknown keys stripped) hold only accessors, ids, enums and keyed hashes: their payloads are not
// text-scanned (their reason, user agent, target and actor are). Every other payload is.
export const STRUCTURED_ACTIONS = ["handle.polled", "handle.result_fetched", "handle.expired", "handle.revoked", "handle.denied", "handle.cancel_requested", "handle.cancel_outcome", "gateway.tasks_listed"];
const EVENT_TEXT = `CROSS JOIN LATERAL (SELECT CASE WHEN e.action IN (${STRUCTURED_ACTIONS.map((a) => `'${a}'`).join(", ")}) THEN '' ELSE e.payload::text END AS payload,
                                   concat_ws(' ', e.reason, e.user_agent, e.target_id, e.actor_id) AS other) t`;

export const H16: TMeasuredControl = {
  id: "H-16",
  title: "Handle secrecy",
  definition:
    "Handles minted in the period not stored only as a keyed hash and encrypted envelopes (a 43-character token hash that is not a token, AES-GCM envelopes), plus handle status messages and audit records of the period (payload, reason, user agent, target and actor) containing a string shaped like a handle token or an API key. The payloads of the high-volume lifecycle events whose schemas allow only accessors, ids, enums and keyed hashes (polls, results fetched, expiries, revocations, denials, cancels, task lists) are not text-scanned; their other fields are. Logs and traces outside the database are not scanned. Population: handles minted in the period + audit events in the period covered by the report's checkpoint. Passes at 0.",
  csf: ["PR.DS-01", "PR.DS-02", "PR.DS-10"],
  sp80053: ["IA-5", "SC-28", "SC-8"],
  owasp: ["ASI03", "ASI06", "LLM02"],
  kind: "measured",
  metric: "count",
  unit: "unprotected or leaked secrets",
  defaultThreshold: { target: 0, partial: null },
  sql: `SELECT (SELECT count(*) FROM handle h WHERE h.created_at >= :start AND h.created_at < :end)::float8 AS handles,
       (SELECT count(*) FROM handle h WHERE h.created_at >= :start AND h.created_at < :end AND ${UNPROTECTED})::float8 AS unprotected,
       (SELECT count(*) FROM handle h WHERE h.created_at >= :start AND h.created_at < :end AND ${LEAKING_MESSAGE})::float8 AS leaking_messages,
       ((SELECT count(*) FROM audit_event e WHERE ${EVENT_IN_PERIOD})
        - (SELECT count(*) FROM audit_event e WHERE (e.txid, e.seq) > (:cpTxid, :cpSeq) AND ${EVENT_IN_PERIOD}))::float8 AS events,
       (SELECT count(*) FROM audit_event e ${EVENT_TEXT} WHERE ${EVENT_IN_PERIOD} AND ${SEALED} AND ${LEAKING_EVENT})::float8 AS leaking_events`,
  sampleSql: `SELECT h.accessor FROM handle h
 WHERE h.created_at >= :start AND h.created_at < :end AND (${UNPROTECTED} OR COALESCE(${LEAKING_MESSAGE}, false))
 ORDER BY h.created_at, h.id LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const handles = num(row, "handles");
    const events = num(row, "events");
    const unprotected = num(row, "unprotected");
    const leakingMessages = num(row, "leaking_messages");
    const leakingEvents = num(row, "leaking_events");
    const population = handles + events;
    if (population === 0) return { population, violations: 0, value: null, details: {}, vacuous: "no handles and no audit events in the period" };
    const violations = unprotected + leakingMessages + leakingEvents;
    return { population, violations, value: violations, details: { handles, auditEvents: events, unprotectedHandles: unprotected, leakingStatusMessages: leakingMessages, leakingAuditEvents: leakingEvents } };
  },
};
