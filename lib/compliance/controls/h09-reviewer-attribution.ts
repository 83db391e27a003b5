import { EVENT_IN_PERIOD, SEALED, uuidOf } from "./sql";
import { num, ratio, type TInterpretation, type TMeasuredControl } from "./types";

/** Reviewer actions on handles: manual revocations and console cancels. */
export const REVIEWER_ACTIONS = `((e.action = 'handle.revoked' AND e.payload->>'trigger' = 'manual')
        OR (e.action = 'handle.cancel_requested' AND e.payload->>'via' = 'console'))`;

// Attributed: an authenticated principal that exists (a user, or an agent acting by API key),
// and a reason. Every counted event is sealed under the report's signed checkpoint, which is
// the signature the metric asks for; Tether records no ticket reference.
const ATTRIBUTED = `(e.actor_type IN ('user', 'service')
        AND e.actor_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM principal p WHERE p.id = ${uuidOf("e.actor_id")})
        AND btrim(COALESCE(e.reason, '')) <> '')`;

export const H09: TMeasuredControl = {
  id: "H-09",
  title: "Reviewer attribution",
  definition:
    "Share of reviewer actions on handles in the period (manual revocations and console cancels) whose audit record names an authenticated principal that exists and carries a reason. Every counted record is sealed under the report's signed checkpoint; Tether records no ticket reference, so tickets are not part of the metric. Population: those audit events in the period covered by the checkpoint. Passes at 100 %.",
  csf: ["GV.RR-02", "PR.PS-04", "RS.AN-06"],
  sp80053: ["AU-3", "AU-10", "AC-6(9)"],
  owasp: ["ASI09"],
  kind: "measured",
  metric: "ratio",
  unit: "attributed actions",
  defaultThreshold: { target: 1, partial: 0.95 },
  sql: `SELECT count(*)::float8 AS population,
       count(*) FILTER (WHERE NOT ${ATTRIBUTED})::float8 AS violations
  FROM audit_event e
 WHERE ${REVIEWER_ACTIONS} AND ${EVENT_IN_PERIOD} AND ${SEALED}`,
  sampleSql: `SELECT DISTINCT e.payload->>'accessor' AS accessor FROM audit_event e
 WHERE ${REVIEWER_ACTIONS} AND ${EVENT_IN_PERIOD} AND ${SEALED} AND NOT ${ATTRIBUTED}
 ORDER BY 1 LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const violations = num(row, "violations");
    if (population === 0) return { population, violations, value: null, details: {}, vacuous: "no reviewer revoked or cancelled a handle in the period" };
    return { population, violations, value: ratio(population - violations, population), details: { unattributed: violations } };
  },
};
