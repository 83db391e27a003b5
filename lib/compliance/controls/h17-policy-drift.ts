import { liveAt } from "./sql";
import { num, type TInterpretation, type TMeasuredControl } from "./types";

// Tether re-evaluates live handles when the policy changes (in the change's own transaction):
// versions below min_valid_version are revoked, lifetimes above the new maximum TTL are clamped.
// A handle live at the period end that the policy in force 60 s before the end (grace for
// changes in flight) would revoke or clamp was not re-evaluated.
const POLICY_AT_END = `WITH pe AS (
  SELECT * FROM handle_policy WHERE created_at <= :end - :graceMs * interval '1 millisecond' ORDER BY version DESC LIMIT 1
)`;
const DRIFTED = "(h.policy_version < pe.min_valid_version OR h.expires_at > h.created_at + pe.max_ttl_ms * interval '1 millisecond')";

export const H17: TMeasuredControl = {
  id: "H-17",
  title: "Policy drift",
  definition:
    "Handles live at the end of the period that the policy in force (60 s before the end, grace for a change in flight) does not honour as they are: issued under a version below its oldest honoured version, or with a lifetime longer than its maximum TTL. Shown alongside: live handles issued under a superseded but still honoured version. Entitlement changes of the owner are not tracked by Tether and are not part of the metric. Population: handles live at the period end. Passes at 0.",
  csf: ["GV.PO-02", "PR.AA-05", "ID.RA-07"],
  sp80053: ["AC-2", "AC-24", "CA-7"],
  owasp: ["ASI03", "ASI01", "ASI06"],
  kind: "measured",
  metric: "count",
  unit: "drifted live handles",
  defaultThreshold: { target: 0, partial: null },
  params: { graceMs: { type: "float8", value: 60_000 } },
  sql: `${POLICY_AT_END}
SELECT count(*)::float8 AS population,
       count(*) FILTER (WHERE ${DRIFTED})::float8 AS violations,
       count(*) FILTER (WHERE h.policy_version < pe.version AND NOT ${DRIFTED})::float8 AS superseded,
       (SELECT version FROM pe)::float8 AS policy_version
  FROM handle h CROSS JOIN pe
 WHERE ${liveAt(":end")}`,
  sampleSql: `${POLICY_AT_END}
SELECT h.accessor FROM handle h CROSS JOIN pe WHERE ${liveAt(":end")} AND ${DRIFTED}
 ORDER BY h.created_at, h.id LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const violations = num(row, "violations");
    if (population === 0) return { population, violations, value: null, details: {}, vacuous: "no handle was live at the end of the period (or no policy was in force)" };
    return { population, violations, value: violations, details: { supersededButHonoured: num(row, "superseded"), policyVersion: num(row, "policy_version") } };
  },
};
