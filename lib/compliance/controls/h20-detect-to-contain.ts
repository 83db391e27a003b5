import { EVENT_IN_PERIOD, SEALED } from "./sql";
import { num, numOrNull, type TInterpretation, type TMeasuredControl } from "./types";

// Tether's alert about a principal is gateway.enumeration_suspected (too many refused task
// operations). Containment: the agent disabled (service_account.disabled), which ends its gateway
// sessions and revokes every live handle it holds. An alert not contained by the period end
// counts with the time it has been open until then.
const CONTAINMENT = `WITH alerts AS (
  SELECT e.seq, e.occurred_at, e.target_id AS principal_id
    FROM audit_event e
   WHERE e.action = 'gateway.enumeration_suspected' AND ${EVENT_IN_PERIOD} AND ${SEALED}
), contained AS (
  SELECT a.seq, a.principal_id, a.occurred_at,
         (SELECT min(c.occurred_at) FROM audit_event c
           WHERE c.target_type = 'principal' AND c.target_id = a.principal_id AND c.action = 'service_account.disabled'
             AND c.occurred_at >= a.occurred_at AND c.occurred_at < :end AND (c.txid, c.seq) <= (:cpTxid, :cpSeq)) AS contained_at
    FROM alerts a
), timed AS (
  SELECT principal_id, contained_at IS NOT NULL AS is_contained,
         EXTRACT(EPOCH FROM (COALESCE(contained_at, :end) - occurred_at)) * 1000 AS ms
    FROM contained
)`;

export const H20: TMeasuredControl = {
  id: "H-20",
  title: "Detect to contain",
  definition:
    "95th percentile, over the alerts about a principal in the period (gateway.enumeration_suspected: repeated refused task operations), of the time until the principal was contained (service_account.disabled, which revokes all its live handles); an alert not contained by the period end counts the time until the end. Tether raises no alert per mismatched use, so only these alerts are measured. Passes at p95 ≤ 15 min.",
  csf: ["DE.AE-08", "RS.MA-02", "RS.MI-01"],
  sp80053: ["IR-4", "IR-5"],
  owasp: ["ASI10", "ASI08"],
  kind: "measured",
  metric: "duration_ms",
  unit: "ms (p95)",
  defaultThreshold: { target: 900_000, partial: null },
  sql: `${CONTAINMENT}
SELECT count(*)::float8 AS population,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::float8 AS p95_ms,
       count(*) FILTER (WHERE NOT is_contained)::float8 AS open_alerts,
       count(*) FILTER (WHERE ms > :target)::float8 AS violations
  FROM timed`,
  sampleSql: `${CONTAINMENT}
SELECT DISTINCT principal_id AS id FROM timed WHERE ms > :target ORDER BY 1 LIMIT :limit`,
  sampleKind: "principal",
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const p95 = numOrNull(row, "p95_ms");
    if (population === 0 || p95 === null) return { population, violations: 0, value: null, details: {}, vacuous: "no alert about a principal was raised in the period" };
    return { population, violations: num(row, "violations"), value: Math.round(p95), details: { uncontainedAlerts: num(row, "open_alerts") } };
  },
};
