import { SEALED, liveAt } from "./sql";
import { num, type TInterpretation, type TMeasuredControl } from "./types";

// A server counts as disabled at the period end when it had been removed by then, or when the
// last of its registered / enabled / disabled audit events before the end (within the report's
// checkpoint) left it disabled. A principal counts as disabled when disabled_at is at or before
// the end (a principal re-enabled since shows no disabled_at: the inventory keeps no history of it).
const ORPHAN = `((p.disabled_at IS NOT NULL AND p.disabled_at <= :end) OR h.server_id IN (SELECT id FROM disabled_servers))`;
const DISABLED_SERVERS = `WITH disabled_servers AS (
  SELECT s.id FROM mcp_server s
   WHERE (s.removed_at IS NOT NULL AND s.removed_at <= :end)
      OR COALESCE((SELECT CASE e.action WHEN 'server.disabled' THEN true
                                        WHEN 'server.registered' THEN e.payload->>'enabled' = 'false'
                                        ELSE false END
                     FROM audit_event e
                    WHERE e.target_type = 'mcp_server' AND e.target_id = s.id::text
                      AND e.action IN ('server.registered', 'server.enabled', 'server.disabled')
                      AND e.occurred_at <= :end AND ${SEALED}
                    ORDER BY e.seq DESC LIMIT 1), false)
)`;

export const H02: TMeasuredControl = {
  id: "H-02",
  title: "Orphaned handles",
  definition:
    "Handles live at the end of the period (minted by then, neither revoked nor expired) whose owner principal was disabled, or whose issuing server was removed or disabled, at that time. Population: handles live at the period end. Passes at 0.",
  csf: ["PR.AA-01", "PR.AA-05", "ID.AM-08"],
  sp80053: ["AC-2(3)", "AC-2", "IA-5"],
  owasp: ["ASI03", "ASI10"],
  kind: "measured",
  metric: "count",
  unit: "orphaned live handles",
  defaultThreshold: { target: 0, partial: null },
  sql: `${DISABLED_SERVERS}
SELECT count(*)::float8 AS population,
       count(*) FILTER (WHERE ${ORPHAN})::float8 AS violations
  FROM handle h JOIN principal p ON p.id = h.principal_id
 WHERE ${liveAt(":end")}`,
  sampleSql: `${DISABLED_SERVERS}
SELECT h.accessor FROM handle h JOIN principal p ON p.id = h.principal_id
 WHERE ${liveAt(":end")} AND ${ORPHAN}
 ORDER BY h.created_at, h.id LIMIT :limit`,
  sampleKind: "handle",
  interpret(row): TInterpretation {
    const population = num(row, "population");
    const violations = num(row, "violations");
    if (population === 0) return { population, violations, value: null, details: {}, vacuous: "no handle was live at the end of the period" };
    return { population, violations, value: violations, details: {} };
  },
};
