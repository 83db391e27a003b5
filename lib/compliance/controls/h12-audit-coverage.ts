import { SEALED } from "./sql";
import { num, ratio, type TInterpretation, type TMeasuredControl } from "./types";

// Lifecycle facts the handle table records, each of which must have its audit event (the same
// transaction writes both). Facts from the last 5 s before the report's checkpoint are left out:
// their events may commit after it. The event is looked up by target, whatever its timestamp, so
// clock skew between the minting process and the database does not matter.
const FACTS = `WITH facts AS (
  SELECT 'handle.issued' AS action, h.id::text AS id FROM handle h
   WHERE h.created_at >= :start AND h.created_at < LEAST(:end, :cpAt - interval '5 seconds')
  UNION ALL
  SELECT 'handle.revoked', h.id::text FROM handle h
   WHERE h.revoked_at >= :start AND h.revoked_at < LEAST(:end, :cpAt - interval '5 seconds')
  UNION ALL
  SELECT 'handle.expired', h.id::text FROM handle h
   WHERE h.expired_at >= :start AND h.expired_at < LEAST(:end, :cpAt - interval '5 seconds')
  UNION ALL
  SELECT 'handle.cancel_requested', h.id::text FROM handle h
   WHERE h.cancel_requested_at >= :start AND h.cancel_requested_at < LEAST(:end, :cpAt - interval '5 seconds')
), missing AS (
  SELECT f.action, f.id FROM facts f
   WHERE NOT EXISTS (SELECT 1 FROM audit_event e
                      WHERE e.target_type = 'handle' AND e.action IN ('handle.issued', 'handle.revoked', 'handle.expired', 'handle.cancel_requested')
                        AND e.target_id = f.id AND e.action = f.action AND ${SEALED})
)`;

export const H12: TMeasuredControl = {
  id: "H-12",
  title: "Audit coverage",
  definition:
    "Share of the handle lifecycle facts recorded in the handle table for the period (minted: created_at; revoked: revoked_at; marked expired: expired_at; cancel requested: cancel_requested_at) that have their audit event (handle.issued, handle.revoked, handle.expired, handle.cancel_requested) covered by the report's checkpoint. Facts from the 5 s before the checkpoint are left out. Passes at 100 %.",
  csf: ["PR.PS-04", "DE.CM-03"],
  sp80053: ["AU-2", "AU-3", "AU-12"],
  owasp: ["T8", "ASI08"],
  kind: "measured",
  metric: "ratio",
  unit: "lifecycle facts audited",
  defaultThreshold: { target: 1, partial: 0.95 },
  sql: `${FACTS}
SELECT (SELECT count(*) FROM facts)::float8 AS population,
       (SELECT count(*) FROM missing)::float8 AS violations,
       (SELECT count(*) FROM missing WHERE action = 'handle.issued')::float8 AS missing_issued,
       (SELECT count(*) FROM missing WHERE action = 'handle.revoked')::float8 AS missing_revoked,
       (SELECT count(*) FROM missing WHERE action = 'handle.expired')::float8 AS missing_expired,
       (SELECT count(*) FROM missing WHERE action = 'handle.cancel_requested')::float8 AS missing_cancel`,
  sampleSql: `${FACTS}
SELECT DISTINCT h.accessor FROM missing m JOIN handle h ON h.id::text = m.id ORDER BY 1 LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const violations = num(row, "violations");
    if (population === 0) return { population, violations, value: null, details: {}, vacuous: "the handle table records no lifecycle fact in the period" };
    return {
      population,
      violations,
      value: ratio(population - violations, population),
      details: {
        missingIssued: num(row, "missing_issued"),
        missingRevoked: num(row, "missing_revoked"),
        missingExpired: num(row, "missing_expired"),
        missingCancelRequested: num(row, "missing_cancel"),
      },
    };
  },
};
