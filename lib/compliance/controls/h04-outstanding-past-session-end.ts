import { VALID_UNTIL } from "./sql";
import { num, type TInterpretation, type TMeasuredControl } from "./types";

// A handle is "outstanding past session end" when its gateway session ended while it was valid
// and it stayed valid (not revoked, not expired) for more than the grace period after that.
// Counted in the period when that overrun overlaps it.
const BOUND = `FROM gateway_session s
  JOIN handle h ON h.session_id = s.id
 CROSS JOIN LATERAL (SELECT ${VALID_UNTIL} AS valid_until) u
 WHERE s.ended_at IS NOT NULL AND s.ended_at < :end
   AND h.created_at <= s.ended_at AND u.valid_until > s.ended_at AND u.valid_until > :start`;
const OVERRUN = `(u.valid_until > s.ended_at + :graceMs * interval '1 millisecond' AND s.ended_at + :graceMs * interval '1 millisecond' < :end)`;

export const H04: TMeasuredControl = {
  id: "H-04",
  title: "Handles outstanding past session end",
  definition:
    "Handles whose bound gateway session ended while they were valid and that were still neither revoked nor expired more than 60 s (grace) after the session ended, where that overrun falls in the period. Population: handles valid when their session ended, for sessions that ended before the period end, whose remaining validity overlaps the period. Passes at 0.",
  csf: ["PR.AA-05", "PR.AA-03"],
  sp80053: ["SC-23(1)", "AC-12", "SC-23"],
  owasp: ["ASI03", "ASI06"],
  kind: "measured",
  metric: "count",
  unit: "handles outstanding past session end",
  defaultThreshold: { target: 0, partial: null },
  params: { graceMs: { type: "float8", value: 60_000 } },
  sql: `SELECT count(*)::float8 AS population,
       count(*) FILTER (WHERE ${OVERRUN})::float8 AS violations
  ${BOUND}`,
  sampleSql: `SELECT h.accessor
  ${BOUND} AND ${OVERRUN}
 ORDER BY s.ended_at, h.id LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const violations = num(row, "violations");
    if (population === 0) return { population, violations, value: null, details: {}, vacuous: "no gateway session ended while a handle bound to it was valid" };
    return { population, violations, value: violations, details: {} };
  },
};
