import { num, ratio, type TInterpretation, type TMeasuredControl } from "./types";

// Mismatched presentations are visible two ways: the gateway's denials (handle.denied with a
// binding cause) and, should the gateway ever let one through, a successful use recorded under
// an actor other than the handle's owner. Session, audience and policy mismatches that were let
// through leave no trace beyond the owner check, which the definition says.
const ALLOWED_MISMATCH = `FROM period_uses u JOIN handle h ON h.id::text = u.handle_id
 WHERE u.ok_n > 0 AND u.actor_id IS DISTINCT FROM h.principal_id::text`;

export const H05: TMeasuredControl = {
  id: "H-05",
  title: "Binding enforcement",
  definition:
    "Share of mismatched handle presentations in the period that the gateway denied. Denied: handle.denied events with cause principal_mismatch, session_mismatch (or credential_mismatch, its counterpart on the session-less 2026-07-28 wire), audience_mismatch or policy_invalidated. Allowed: successful uses (result fetched, audited poll, agent cancel) recorded under a principal other than the handle's owner. Population: denied + allowed mismatches (audit events in the period covered by the report's checkpoint). Passes at 100 %.",
  csf: ["PR.AA-05", "PR.AA-03", "PR.AA-04"],
  sp80053: ["AC-3", "AC-24", "SC-23", "IA-13(3)"],
  owasp: ["ASI03", "ASI07"],
  kind: "measured",
  metric: "ratio",
  unit: "mismatches denied",
  defaultThreshold: { target: 1, partial: 0.95 },
  shared: "period_uses",
  // violations: the allowed mismatches.
  sql: `SELECT COALESCE((SELECT sum(u.denied_principal_n + u.denied_session_n + u.denied_audience_n + u.denied_policy_n) FROM period_uses u), 0)::float8 AS denied,
       COALESCE((SELECT sum(u.ok_n) ${ALLOWED_MISMATCH}), 0)::float8 AS violations`,
  sampleSql: `SELECT DISTINCT h.accessor ${ALLOWED_MISMATCH}
 ORDER BY h.accessor LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const denied = num(row, "denied");
    const allowed = num(row, "violations");
    const population = denied + allowed;
    if (population === 0) return { population, violations: 0, value: null, details: { denied, allowed }, vacuous: "no mismatched handle presentation was recorded in the period" };
    return { population, violations: allowed, value: ratio(denied, population), details: { denied, allowed } };
  },
};
