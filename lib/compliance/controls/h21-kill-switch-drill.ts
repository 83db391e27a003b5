import { EVENT_IN_PERIOD, SEALED, uuidOf } from "./sql";
import { num, ratio, type TInterpretation, type TMeasuredControl } from "./types";

// Tether's kill switches: disabling an agent (all its handles), revoking an API key (the handles
// minted with it), removing a server with "revoke all" (its handles). Each revokes in the same
// transaction as its audit event, so a targeted handle (valid at that moment) must carry a
// revocation no later than 5 s after it.
const TARGETED = `WITH drills AS (
  SELECT e.seq, e.occurred_at, e.action, e.target_id
    FROM audit_event e
   WHERE e.outcome = 'ok' AND ${EVENT_IN_PERIOD} AND ${SEALED}
     AND (e.action IN ('service_account.disabled', 'api_key.revoked')
          OR (e.action = 'server.removed' AND e.payload->>'handling' = 'revoke_all'))
), targeted AS (
  SELECT d.occurred_at, h.accessor, h.created_at, h.revoked_at, h.expires_at FROM drills d JOIN handle h ON h.principal_id = ${uuidOf("d.target_id")}
   WHERE d.action = 'service_account.disabled'
  UNION ALL
  SELECT d.occurred_at, h.accessor, h.created_at, h.revoked_at, h.expires_at FROM drills d JOIN handle h ON h.api_key_id = ${uuidOf("d.target_id")}
   WHERE d.action = 'api_key.revoked'
  UNION ALL
  SELECT d.occurred_at, h.accessor, h.created_at, h.revoked_at, h.expires_at FROM drills d JOIN handle h ON h.server_id = ${uuidOf("d.target_id")}
   WHERE d.action = 'server.removed'
), live_targets AS (
  SELECT t.* FROM targeted t
   WHERE t.created_at <= t.occurred_at AND (t.revoked_at IS NULL OR t.revoked_at >= t.occurred_at) AND t.expires_at > t.occurred_at
)`;
const MISSED = "(revoked_at IS NULL OR revoked_at > occurred_at + interval '5 seconds')";

export const H21: TMeasuredControl = {
  id: "H-21",
  title: "Kill-switch drill",
  definition:
    "Whether a kill switch was exercised in the period (an agent disabled, an API key revoked, or a server removed with all its handles revoked) and its coverage: the share of the handles valid at that moment that were revoked within 5 s. No kill switch exercised in a period that had handles fails. Population: handles targeted by the kill switches of the period. Passes at ≥ 1 exercise and 100 % coverage.",
  csf: ["RS.MI-01", "ID.IM-02", "RC.RP-05"],
  sp80053: ["IR-4", "IR-3"],
  owasp: ["ASI10", "ASI08"],
  kind: "measured",
  metric: "ratio",
  unit: "targeted handles revoked",
  defaultThreshold: { target: 1, partial: 0.95 },
  sql: `${TARGETED}
SELECT (SELECT count(*) FROM drills)::float8 AS drills,
       (SELECT count(*) FROM live_targets)::float8 AS population,
       (SELECT count(*) FROM live_targets WHERE ${MISSED})::float8 AS violations,
       (SELECT count(*) FROM handle h WHERE h.created_at < :end AND h.expires_at > :start)::float8 AS handles_in_period`,
  sampleSql: `${TARGETED}
SELECT DISTINCT accessor FROM live_targets WHERE ${MISSED} ORDER BY 1 LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const drills = num(row, "drills");
    const population = num(row, "population");
    const violations = num(row, "violations");
    const handles = num(row, "handles_in_period");
    const details = { drills, handlesValidInPeriod: handles };
    if (drills === 0 && handles === 0) return { population, violations, value: null, details, vacuous: "no handle was valid in the period" };
    if (drills === 0) return { population, violations, value: 0, details, verdict: { status: "fail", reason: "no kill switch was exercised in the period" } };
    return { population, violations, value: population === 0 ? 1 : ratio(population - violations, population), details };
  },
};
