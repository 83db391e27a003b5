import { HANDLE_USE, SEALED } from "./sql";
import { num, numOrNull, type TInterpretation, type TMeasuredControl } from "./types";

// Requested: when the context change that caused the revocation happened (the session's end, the
// principal's disabling, the key's revocation, the server's removal), or the revocation itself for
// manual, cancel and policy revocations, which Tether performs in the request's own transaction.
// Enforced: the revocation, or the last successful use after the request if the gateway let one
// through (from the audit trail and the handle's last_used_at). A context timestamp later than the
// revocation (the row changed again since) falls back to the revocation time. The last audited use
// comes from the hourly rollup (per handle, all hours: when the last use is after the request, it is
// the last use after the request); a handle with a use the report's checkpoint does not cover is
// looked up in audit_event itself.
const LATENCIES = `WITH revoked AS (
  SELECT h.id, h.accessor, h.revoked_at, h.last_used_at,
         CASE h.revoke_trigger
           WHEN 'session_ended' THEN s.ended_at
           WHEN 'principal_disabled' THEN p.disabled_at
           WHEN 'api_key_revoked' THEN k.revoked_at
           WHEN 'server_removed' THEN srv.removed_at
         END AS trigger_at
    FROM handle h
    LEFT JOIN gateway_session s ON s.id = h.session_id
    LEFT JOIN principal p ON p.id = h.principal_id
    LEFT JOIN api_key k ON k.id = h.api_key_id
    LEFT JOIN mcp_server srv ON srv.id = h.server_id
   WHERE h.revoked_at >= :start AND h.revoked_at < :end
), requested AS (
  SELECT r.*, CASE WHEN r.trigger_at IS NOT NULL AND r.trigger_at <= r.revoked_at THEN r.trigger_at ELSE r.revoked_at END AS requested_at
    FROM revoked r
), late AS MATERIALIZED (
  SELECT DISTINCT e.target_id AS id FROM audit_event e
   WHERE (e.txid, e.seq) > (:cpTxid, :cpSeq) AND e.target_type = 'handle' AND ${HANDLE_USE} AND e.outcome = 'ok'
), latencies AS MATERIALIZED (
  SELECT q.accessor,
         EXTRACT(EPOCH FROM (GREATEST(
           q.revoked_at,
           CASE WHEN q.last_used_at > q.requested_at THEN q.last_used_at END,
           CASE WHEN q.id::text IN (SELECT id FROM late)
                THEN (SELECT max(e.occurred_at) FROM audit_event e
                       WHERE e.target_type = 'handle' AND e.target_id = q.id::text AND ${HANDLE_USE}
                         AND e.outcome = 'ok' AND e.occurred_at > q.requested_at AND ${SEALED})
                ELSE (SELECT CASE WHEN max(r.last_use_at) > q.requested_at THEN max(r.last_use_at) END
                        FROM audit_hourly_rollup r WHERE r.handle_id = q.id::text)
           END
         ) - q.requested_at)) * 1000 AS latency_ms
    FROM requested q
)`;

export const H07: TMeasuredControl = {
  id: "H-07",
  title: "Revocation latency",
  definition:
    "95th percentile, over the handles revoked in the period, of the time from the revocation request (the context change that triggered it, or the reviewer's or policy's revocation itself) to enforcement (the revocation, or the last successful use after the request if one got through). Population: handles with revoked_at in the period. Passes at p95 ≤ 60 s.",
  csf: ["RS.MI-01", "PR.AA-05"],
  sp80053: ["IR-4", "IA-5", "AC-2"],
  owasp: ["ASI03", "ASI10", "ASI08"],
  kind: "measured",
  metric: "duration_ms",
  unit: "ms (p95)",
  defaultThreshold: { target: 60_000, partial: null },
  sql: `${LATENCIES}
SELECT count(*)::float8 AS population,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)::float8 AS p95_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)::float8 AS median_ms,
       max(latency_ms)::float8 AS max_ms,
       count(*) FILTER (WHERE latency_ms > :target)::float8 AS violations
  FROM latencies`,
  sampleSql: `${LATENCIES}
SELECT accessor FROM latencies WHERE latency_ms > :target ORDER BY latency_ms DESC, accessor LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const p95 = numOrNull(row, "p95_ms");
    if (population === 0 || p95 === null) return { population, violations: 0, value: null, details: {}, vacuous: "no handle was revoked in the period" };
    return {
      population,
      violations: num(row, "violations"),
      value: Math.round(p95),
      details: { medianMs: Math.round(num(row, "median_ms")), maxMs: Math.round(num(row, "max_ms")) },
    };
  },
};
