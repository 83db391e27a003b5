import { num, ratio, type TInterpretation, type TMeasuredControl } from "./types";

// Explicit: an absolute http(s) URI without a wildcard. The gateway mints the audience from the
// server's registered audience; a later edit of that audience is shown, not counted.
const RESTRICTED = "(h.audience ~ '^https?://[^\\s*]+$')";

export const H14: TMeasuredControl = {
  id: "H-14",
  title: "Audience restriction",
  definition:
    "Share of the handles minted in the period bound to an explicit audience: an absolute http(s) URI without wildcards. Shown alongside: handles whose audience differs from their server's current audience, and audience-mismatch denials in the period. Population: handles with created_at in the period. Passes at 100 %.",
  csf: ["PR.AA-05", "PR.AA-04"],
  sp80053: ["IA-13(3)", "AC-3", "AC-6"],
  owasp: ["ASI03", "ASI07"],
  kind: "measured",
  metric: "ratio",
  unit: "audience-restricted handles",
  defaultThreshold: { target: 1, partial: 0.95 },
  shared: "period_uses",
  sql: `SELECT count(*)::float8 AS population,
       count(*) FILTER (WHERE NOT ${RESTRICTED})::float8 AS violations,
       count(*) FILTER (WHERE h.audience <> s.audience)::float8 AS differs_from_server,
       (SELECT COALESCE(sum(u.denied_audience_n), 0) FROM period_uses u)::float8 AS audience_denials
  FROM handle h JOIN mcp_server s ON s.id = h.server_id
 WHERE h.created_at >= :start AND h.created_at < :end`,
  sampleSql: `SELECT h.accessor FROM handle h
 WHERE h.created_at >= :start AND h.created_at < :end AND NOT ${RESTRICTED}
 ORDER BY h.created_at, h.id LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const violations = num(row, "violations");
    if (population === 0) return { population, violations, value: null, details: {}, vacuous: "no handles were minted in the period" };
    return {
      population,
      violations,
      value: ratio(population - violations, population),
      details: { differsFromServerAudience: num(row, "differs_from_server"), audienceMismatchDenials: num(row, "audience_denials") },
    };
  },
};
