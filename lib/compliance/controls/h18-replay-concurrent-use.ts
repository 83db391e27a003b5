import { num, type TInterpretation, type TMeasuredControl } from "./types";

const PER_HANDLE = `WITH per_handle AS (
  SELECT handle_id, COALESCE(min(actor_id) <> max(actor_id), false) AS many_actors, COALESCE(min(ip_min) <> max(ip_max), false) AS many_ips,
         sum(foreign_cause_n) > 0 AS foreign_presentation
    FROM period_uses WHERE handle_id IS NOT NULL GROUP BY handle_id
)`;
const SUSPECT = "(p.many_actors OR p.many_ips OR p.foreign_presentation)";

export const H18: TMeasuredControl = {
  id: "H-18",
  title: "Replay and concurrent use",
  definition:
    "Handles presented in the period by more than one principal or from more than one client address, or presented from another principal's or session's context (denied as principal, session or credential mismatch), per the audit trail (successful audited uses and denials; plain polls are audited only when the policy audits every poll). Population: handles with an audited presentation in the period. Passes at 0.",
  csf: ["DE.CM-09", "DE.AE-03"],
  sp80053: ["AC-10", "SC-23(3)", "SI-4"],
  owasp: ["ASI07", "ASI03"],
  kind: "measured",
  metric: "count",
  unit: "handles presented from more than one context",
  defaultThreshold: { target: 0, partial: null },
  shared: "period_uses",
  sql: `${PER_HANDLE}
SELECT count(*)::float8 AS population, count(*) FILTER (WHERE ${SUSPECT})::float8 AS violations FROM per_handle p`,
  sampleSql: `${PER_HANDLE}
SELECT h.accessor FROM per_handle p JOIN handle h ON h.id::text = p.handle_id WHERE ${SUSPECT} ORDER BY h.accessor LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const violations = num(row, "violations");
    if (population === 0) return { population, violations, value: null, details: {}, vacuous: "no audited handle presentation in the period" };
    return { population, violations, value: violations, details: {} };
  },
};
