import { EVENT_HANDLE_ID, EVENT_IN_PERIOD, SEALED } from "./sql";
import { REVIEWER_ACTIONS } from "./h09-reviewer-attribution";
import { num, ratio, type TInterpretation, type TMeasuredControl } from "./types";

const ACTIONS = `FROM audit_event e LEFT JOIN handle h ON h.id = ${EVENT_HANDLE_ID}
 WHERE ${REVIEWER_ACTIONS} AND ${EVENT_IN_PERIOD} AND ${SEALED}`;
const SELF = "(h.id IS NULL OR e.actor_id = h.principal_id::text)";

export const H10: TMeasuredControl = {
  id: "H-10",
  title: "Separation of duties",
  definition:
    "Share of reviewer actions on handles in the period (manual revocations and console cancels) taken by a principal other than the handle's owner; an action whose handle cannot be found counts as not separated. The two-person rule for bulk revocation is not part of the metric: Tether records no second approver for it. Population: those audit events in the period covered by the report's checkpoint. Passes at 100 %.",
  csf: ["PR.AA-05", "GV.RR-02"],
  sp80053: ["AC-5"],
  owasp: ["ASI09"],
  kind: "measured",
  metric: "ratio",
  unit: "separated actions",
  defaultThreshold: { target: 1, partial: 0.95 },
  sql: `SELECT count(*)::float8 AS population, count(*) FILTER (WHERE ${SELF})::float8 AS violations
  ${ACTIONS}`,
  sampleSql: `SELECT DISTINCT e.payload->>'accessor' AS accessor
  ${ACTIONS} AND ${SELF}
 ORDER BY 1 LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const violations = num(row, "violations");
    if (population === 0) return { population, violations, value: null, details: {}, vacuous: "no reviewer revoked or cancelled a handle in the period" };
    return { population, violations, value: ratio(population - violations, population), details: { selfActions: violations } };
  },
};
