import { VALID_UNTIL } from "./sql";
import { num, type TInterpretation, type TMeasuredControl } from "./types";

// Two records of use: audited uses (events in the period) and the handle's last_used_at (every
// use, including unaudited polls, written by the gateway process's clock). A use within the skew
// tolerance after the end of validity is a call that was authorised just before it (the gateway
// checks, then records) or clock skew between the gateway process and the database.
const USED = `WITH used AS (
  SELECT h.id, h.accessor, ${VALID_UNTIL} AS valid_until,
         GREATEST(a.last_use, CASE WHEN h.last_used_at >= :start AND h.last_used_at < :end THEN h.last_used_at END) AS last_use
    FROM handle h
    LEFT JOIN (SELECT handle_id, max(last_ok_at) AS last_use FROM period_uses WHERE ok_n > 0 AND handle_id IS NOT NULL GROUP BY handle_id) a ON a.handle_id = h.id::text
   WHERE a.handle_id IS NOT NULL OR (h.last_used_at >= :start AND h.last_used_at < :end)
)`;
const AFTER_END = "used.last_use > used.valid_until + :skewMs * interval '1 millisecond'";

export const H08: TMeasuredControl = {
  id: "H-08",
  title: "Use after revocation or expiry",
  definition:
    "Handles used successfully in the period after they were revoked or expired: an audited use (result fetched, audited poll, agent cancel) or the handle's last use time later than its end of validity by more than 2 s (skew tolerance for calls authorised just before and for clock skew between the gateway and the database). Population: handles used in the period. Passes at 0.",
  csf: ["RS.MI-01", "PR.AA-05"],
  sp80053: ["AC-3", "SC-23(1)", "IA-13(3)"],
  owasp: ["ASI03", "ASI07"],
  kind: "measured",
  metric: "count",
  unit: "handles used after revocation or expiry",
  defaultThreshold: { target: 0, partial: null },
  params: { skewMs: { type: "float8", value: 2_000 } },
  shared: "period_uses",
  sql: `${USED}
SELECT count(*)::float8 AS population, count(*) FILTER (WHERE ${AFTER_END})::float8 AS violations FROM used`,
  sampleSql: `${USED}
SELECT used.accessor FROM used WHERE ${AFTER_END} ORDER BY used.last_use DESC, used.accessor LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const violations = num(row, "violations");
    if (population === 0) return { population, violations, value: null, details: {}, vacuous: "no handle was used in the period" };
    return { population, violations, value: violations, details: {} };
  },
};
