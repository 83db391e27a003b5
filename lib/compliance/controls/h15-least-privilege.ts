import { num, ratio, type TInterpretation, type TMeasuredControl } from "./types";

// Tether grants a handle the operations its policy allows (one set for every handle of a policy
// version), so "granted ⊆ allowed" holds by construction; what can be measured is whether every
// operation actually performed was allowed by the policy in force at that moment.
// policy_bucket is the position of the version in force among the versions in order of creation;
// ops counts the successful uses per operation (when every operation is allowed, removing the
// allowed keys leaves nothing, which spares expanding the map).
const USES = `WITH versions AS (
  SELECT row_number() OVER (ORDER BY p.created_at, p.version) AS bucket, p.version, p.allowed_operations FROM handle_policy p
), judged AS (
  SELECT u.handle_id, u.ok_n,
         CASE WHEN v.version IS NULL THEN u.ok_n
              WHEN u.ops - v.allowed_operations = '{}'::jsonb THEN 0
              ELSE (SELECT COALESCE(sum(o.value::bigint), 0) FROM jsonb_each_text(u.ops) o WHERE NOT (o.key = ANY (v.allowed_operations))) END AS not_allowed
    FROM period_uses u LEFT JOIN versions v ON v.bucket = u.policy_bucket
   WHERE u.ok_n > 0
)`;

export const H15: TMeasuredControl = {
  id: "H-15",
  title: "Least-privilege scope",
  definition:
    "Share of the successful handle operations in the period (results fetched, audited polls, agent cancels, task lists) whose operation was among the allowed operations of the policy version in force at that moment. A handle's grant is its policy's allowed set, so this checks that the grant was never exceeded in use. Population: those audit events in the period covered by the report's checkpoint. Passes at 100 %.",
  csf: ["PR.AA-05"],
  sp80053: ["AC-6"],
  owasp: ["ASI03", "ASI02"],
  kind: "measured",
  metric: "ratio",
  unit: "operations within the policy",
  defaultThreshold: { target: 1, partial: 0.95 },
  shared: "period_uses",
  sql: `${USES}
SELECT COALESCE(sum(ok_n), 0)::float8 AS population, COALESCE(sum(not_allowed), 0)::float8 AS violations FROM judged`,
  sampleSql: `${USES}
SELECT DISTINCT h.accessor FROM judged JOIN handle h ON h.id::text = judged.handle_id WHERE judged.not_allowed > 0 ORDER BY 1 LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const violations = num(row, "violations");
    if (population === 0) return { population, violations, value: null, details: {}, vacuous: "no audited handle operation in the period" };
    return { population, violations, value: ratio(population - violations, population), details: {} };
  },
};
