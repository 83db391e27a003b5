import { ratio, num, type TInterpretation, type TMeasuredControl } from "./types";

// A handle's record is complete when everything a reviewer needs to govern it is there: the
// session it is bound to, its audience, the tool, a policy version that exists, and an expiry
// after its creation (owner and server are NOT NULL foreign keys, so always present).
const COMPLETE = `(h.session_id IS NOT NULL
         AND btrim(h.audience) <> ''
         AND btrim(h.tool_name) <> ''
         AND h.expires_at > h.created_at
         AND EXISTS (SELECT 1 FROM handle_policy p WHERE p.version = h.policy_version))`;

export const H01: TMeasuredControl = {
  id: "H-01",
  title: "Inventory completeness",
  definition:
    "Share of the handles minted in the period whose inventory record is complete: owner principal and issuing server (foreign keys), bound gateway session, non-empty audience and tool, a policy version that exists, and an expiry later than the creation time. Population: handles with created_at in the period. Passes at 100 %.",
  csf: ["ID.AM-07", "ID.AM-08", "PR.AA-01"],
  sp80053: ["AC-2", "IA-4", "IA-13(3)", "CM-8"],
  owasp: ["ASI03", "ASI10"],
  kind: "measured",
  metric: "ratio",
  unit: "complete records",
  defaultThreshold: { target: 1, partial: 0.95 },
  sql: `SELECT count(*)::float8 AS population,
       count(*) FILTER (WHERE NOT ${COMPLETE})::float8 AS violations
  FROM handle h
 WHERE h.created_at >= :start AND h.created_at < :end`,
  sampleSql: `SELECT h.accessor FROM handle h
 WHERE h.created_at >= :start AND h.created_at < :end AND NOT ${COMPLETE}
 ORDER BY h.created_at, h.id LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const violations = num(row, "violations");
    if (population === 0) return { population, violations, value: null, details: {}, vacuous: "no handles were minted in the period" };
    return { population, violations, value: ratio(population - violations, population), details: { incomplete: violations } };
  },
};
