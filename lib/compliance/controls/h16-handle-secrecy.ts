import { EVENT_IN_PERIOD, PERIOD_LEAKING_EVENTS } from "./sql";
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
// Audit records are checked as they are written: audit_rollup_event (migration
// 20261126090000_audit_hourly_rollup) flags an event whose payload, reason, user agent, target or
// actor holds the token shape above (cheap substring tests first, the pattern only on what they let
// through). The payloads of the high-volume lifecycle events, whose schemas (lib/audit/events.ts,
// applied at write, unknown keys stripped) hold only accessors, ids, enums and keyed hashes, are not
// text-scanned (polls, results fetched, expiries, revocations, denials, cancels and their outcomes,
// task lists); every other payload is. The report sums those flags per hour (PERIOD_LEAKING_EVENTS).

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
  sql: `WITH handles AS (
  SELECT count(*) AS handles, count(*) FILTER (WHERE ${UNPROTECTED}) AS unprotected, count(*) FILTER (WHERE ${LEAKING_MESSAGE}) AS leaking_messages
    FROM handle h WHERE h.created_at >= :start AND h.created_at < :end
), leaking_events AS (
  ${PERIOD_LEAKING_EVENTS.replace(/\n/g, "\n  ")}
)
SELECT handles.handles::float8 AS handles, handles.unprotected::float8 AS unprotected, handles.leaking_messages::float8 AS leaking_messages,
       ((SELECT count(*) FROM audit_event e WHERE ${EVENT_IN_PERIOD})
        - (SELECT count(*) FROM audit_event e WHERE (e.txid, e.seq) > (:cpTxid, :cpSeq) AND ${EVENT_IN_PERIOD}))::float8 AS events,
       leaking_events.leaking::float8 AS leaking_events
  FROM handles CROSS JOIN leaking_events`,
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
