import { EVENT_IN_PERIOD, SEALED } from "./sql";
import { num, numOrNull, ratio, type TInterpretation, type TMeasuredControl } from "./types";

// The hash chain itself is verified by the full verifier (npm run audit:verify, the scheduled run,
// or the report job when the last run does not reach the report's checkpoint); its recorded runs
// are the evidence here. Verified events: those at or before the event at the last successful
// run's last position (the chain's order is (txid, seq)). Gaps: chain positions up to the
// checkpoint that are missing. The checkpoint's own signature is checked before any metric runs.
const VERIFIED_HEAD = `WITH ok_run AS (
  SELECT r.last_position, r.finished_at FROM audit_verification_run r
   WHERE r.ok AND r.last_position IS NOT NULL ORDER BY r.finished_at DESC LIMIT 1
), verified_head AS (
  SELECT e.txid, e.seq FROM ok_run JOIN audit_chain c ON c.position = ok_run.last_position JOIN audit_event e ON e.seq = c.event_seq
)`;

export const H11: TMeasuredControl = {
  id: "H-11",
  title: "Audit chain intact",
  definition:
    "Share of the period's audit events (covered by the report's signed checkpoint) that the last successful full verification of the hash chain covered. Fails when a verification that finished after the period start found the chain broken, or when chain positions up to the checkpoint are missing (gaps); partial while the period's newest events are not yet covered by a verification. The checkpoint's Ed25519 signature is verified before the report is computed. Passes at 100 %.",
  csf: ["PR.PS-04", "PR.DS-01", "RS.AN-07"],
  sp80053: ["AU-9", "AU-9(3)", "AU-9(2)", "SI-7"],
  owasp: ["T8"],
  kind: "measured",
  metric: "ratio",
  unit: "period events verified",
  defaultThreshold: { target: 1, partial: 0 },
  // Counting the period's events through the occurred_at index, then taking away the few after the
  // checkpoint (an index range on (txid, seq)), is exact and avoids reading every event's row.
  sql: `${VERIFIED_HEAD}
SELECT ((SELECT count(*) FROM audit_event e WHERE ${EVENT_IN_PERIOD})
        - (SELECT count(*) FROM audit_event e WHERE (e.txid, e.seq) > (:cpTxid, :cpSeq) AND ${EVENT_IN_PERIOD}))::float8 AS population,
       (SELECT count(*) FROM audit_event e
         WHERE (e.txid, e.seq) > ((SELECT txid FROM verified_head), (SELECT seq FROM verified_head))
           AND ${SEALED} AND ${EVENT_IN_PERIOD})::float8 AS unverified_after_head,
       (SELECT (COALESCE(max(c.position), 0) - count(*)) FROM audit_chain c WHERE c.position <= :cpPosition)::float8 AS gaps,
       (SELECT count(*) FROM audit_verification_run r WHERE NOT r.ok AND r.finished_at >= :start)::float8 AS failed_runs,
       (SELECT max(r.finished_at) FROM audit_verification_run r WHERE NOT r.ok AND r.finished_at >= :start)::text AS last_failure_at,
       (SELECT last_position FROM ok_run)::float8 AS verified_through,
       (SELECT finished_at FROM ok_run)::text AS verified_at`,
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const verifiedThroughRaw = numOrNull(row, "verified_through");
    // Without a successful verification every event of the period is unverified.
    const unverified = verifiedThroughRaw === null ? population : num(row, "unverified_after_head");
    const gaps = num(row, "gaps");
    const failedRuns = num(row, "failed_runs");
    const verifiedThrough = numOrNull(row, "verified_through");
    const details = {
      gaps,
      failedVerifications: failedRuns,
      verifiedThroughPosition: verifiedThrough,
      verifiedAt: (row.verified_at as string | null) ?? null,
      unverifiedEvents: unverified,
    };
    if (population === 0) return { population, violations: 0, value: null, details, vacuous: "no audit event in the period is covered by the checkpoint" };
    if (failedRuns > 0) {
      return { population, violations: unverified, value: ratio(population - unverified, population), details, verdict: { status: "fail", reason: `a full verification found the chain broken (last at ${String(row.last_failure_at)})` } };
    }
    if (gaps > 0) return { population, violations: unverified, value: ratio(population - unverified, population), details, verdict: { status: "fail", reason: `${gaps} chain position(s) up to the checkpoint are missing` } };
    if (verifiedThrough === null) return { population, violations: unverified, value: null, details, notMeasurable: "no full verification of the audit chain has succeeded yet (run npm run audit:verify)" };
    return { population, violations: unverified, value: ratio(population - unverified, population), details };
  },
};
