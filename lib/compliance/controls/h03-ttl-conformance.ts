import { num, ratio, type TInterpretation, type TMeasuredControl } from "./types";

// Conforming: the handle expires, and its lifetime (expires_at − created_at, both written by the
// minting process, so no clock skew between them) and its effective TTL stay within the maximum
// TTL of the policy version it was issued under. A policy change that lowers the maximum clamps
// expires_at, which only shortens the lifetime.
const NONCONFORMING = `(pv.version IS NULL
        OR h.expires_at = 'infinity'::timestamptz
        OR h.effective_ttl_ms > pv.max_ttl_ms
        OR h.expires_at > h.created_at + pv.max_ttl_ms * interval '1 millisecond')`;

export const H03: TMeasuredControl = {
  id: "H-03",
  title: "TTL conformance",
  definition:
    "Share of the handles minted in the period that expire, and whose lifetime (expires_at − created_at) and effective TTL are at most the maximum TTL of the policy version they were issued under; non-expiring handles and handles naming an unknown policy version do not conform. Population: handles with created_at in the period. Passes at 100 %.",
  csf: ["PR.AA-05", "PR.AA-01"],
  sp80053: ["IA-13(3)", "AC-12", "AC-2(3)"],
  owasp: ["ASI03", "ASI06"],
  kind: "measured",
  metric: "ratio",
  unit: "conforming handles",
  defaultThreshold: { target: 1, partial: 0.95 },
  sql: `SELECT count(*)::float8 AS population,
       count(*) FILTER (WHERE ${NONCONFORMING})::float8 AS violations,
       count(*) FILTER (WHERE h.expires_at = 'infinity'::timestamptz)::float8 AS non_expiring,
       max(EXTRACT(EPOCH FROM (h.expires_at - h.created_at)) * 1000)::float8 AS longest_ms
  FROM handle h LEFT JOIN handle_policy pv ON pv.version = h.policy_version
 WHERE h.created_at >= :start AND h.created_at < :end`,
  sampleSql: `SELECT h.accessor FROM handle h LEFT JOIN handle_policy pv ON pv.version = h.policy_version
 WHERE h.created_at >= :start AND h.created_at < :end AND ${NONCONFORMING}
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
      details: { nonExpiring: num(row, "non_expiring"), longestLifetimeMs: num(row, "longest_ms") },
    };
  },
};
