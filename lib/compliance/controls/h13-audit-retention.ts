import { SEALED } from "./sql";
import { num, numOrNull, type TInterpretation, type TMeasuredControl } from "./types";

// Audit events are never deleted by Tether (the tables are append-only by grant and trigger). The
// trail is complete since installation while the event sealed at chain position 1 still exists;
// otherwise it must reach back at least the retention period from the period end. Deletions
// elsewhere in the chain are what the verifier finds (H-11).
export const H13: TMeasuredControl = {
  id: "H-13",
  title: "Audit retention",
  definition:
    "Days of audit history retained at the end of the period (period end − oldest audit event). Passes when the history reaches back the retention period (default 365 days), or when the event sealed at chain position 1 still exists, i.e. nothing was ever purged since installation. Population: the audit events the report's checkpoint covers (none before the period end: vacuous).",
  csf: ["PR.PS-04"],
  sp80053: ["AU-11", "AU-9", "AU-3"],
  owasp: ["T8"],
  kind: "measured",
  metric: "days",
  unit: "days retained",
  defaultThreshold: { target: 365, partial: null },
  // Positions are contiguous from 1 (H-11 checks for gaps), so the checkpoint's position is the
  // number of events it covers.
  sql: `SELECT CASE WHEN EXISTS (SELECT 1 FROM audit_event e WHERE e.occurred_at < :end AND ${SEALED}) THEN :cpPosition ELSE 0 END::float8 AS population,
       (SELECT EXTRACT(EPOCH FROM (:end - min(e.occurred_at))) / 86400 FROM audit_event e)::float8 AS retained_days,
       EXISTS (SELECT 1 FROM audit_chain c JOIN audit_event e ON e.seq = c.event_seq WHERE c.position = 1) AS complete_since_installation`,
  interpret(row, ctx): TInterpretation {
    const population = num(row, "population");
    const days = numOrNull(row, "retained_days");
    const complete = row.complete_since_installation === true;
    if (population === 0 || days === null) return { population, violations: null, value: null, details: {}, vacuous: "no audit event before the period end" };
    const value = Math.floor(days * 100) / 100;
    const details = { completeSinceInstallation: complete };
    if (value >= ctx.target) return { population, violations: null, value, details };
    if (complete) return { population, violations: null, value, details, verdict: { status: "pass", reason: "nothing was purged since installation (the event at chain position 1 exists)" } };
    return { population, violations: null, value, details, verdict: { status: "fail", reason: "older events were removed and the history is shorter than the retention period" } };
  },
};
