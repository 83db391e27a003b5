// Shared pieces of the metric queries, and the binding of their named parameters. The pieces are
// interpolated when a control is defined, so the SQL a report shows is the SQL that ran.
import type { TMetricContext, TParamType } from "./types";

/** An audit event counts only if the report's signed checkpoint covers it. The sealer links events in
 *  (txid, seq) order and never skips one, so "at or before the checkpoint's event" is exactly
 *  "sealed at a chain position the checkpoint signs". */
export const SEALED = "(e.txid, e.seq) <= (:cpTxid, :cpSeq)";

/** The event happened in the period (half-open: [start, end)). */
export const EVENT_IN_PERIOD = "e.occurred_at >= :start AND e.occurred_at < :end";

/** A handle honoured by the gateway at time t: minted, not revoked, not expired. */
export const liveAt = (t: string) => `h.created_at <= ${t} AND (h.revoked_at IS NULL OR h.revoked_at > ${t}) AND h.expires_at > ${t}`;

/** An agent's successful use of a handle as the audit trail records it: a result fetched, a poll (when
 *  the policy audits every poll), a cancel sent through the gateway. */
export const HANDLE_USE = "(e.action IN ('handle.result_fetched', 'handle.polled') OR (e.action = 'handle.cancel_requested' AND e.payload->>'via' = 'agent'))";

/** Joins an event to its handle by the handle id's text form: on millions of events a hash join on
 *  text is much cheaper than checking and casting every event's target id. */
export const EVENT_IS_HANDLE_H = "e.target_type = 'handle' AND e.target_id = h.id::text";

/** The handle an event is about (its target id is text; only well-formed uuids are cast). For small sets of events. */
export const EVENT_HANDLE_ID =
  "CASE WHEN e.target_type = 'handle' AND e.target_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN e.target_id::uuid END";

/** Hours are binned from a fixed UTC origin, so a bucket never depends on the session's time zone. */
const HOUR_OF = (t: string) => `date_bin('1 hour', ${t}, timestamptz '2000-01-01 00:00:00+00')`;

/** What an audit event contributes to the hourly rollup (the database function the rollup's trigger uses too). */
const ROLLUP_EVENT = "audit_rollup_event(e.occurred_at, e.actor_id, e.action, e.target_type, e.target_id, e.outcome::text, e.reason, e.ip, e.user_agent, e.payload) x";

/**
 * The hours of the period that the hourly rollup (audit_hourly_rollup, kept by a trigger on
 * audit_event in the inserting transaction) cannot answer exactly, read from audit_event instead:
 * the hours holding the period's start and end (covered only in part), hours in which a policy
 * version took effect (uses in them fall under two versions), and hours holding an event the
 * report's checkpoint does not cover (the rollup has every committed event). Every other hour
 * of the period is whole, under one policy version, and entirely sealed: its rollup rows are
 * exactly its events.
 */
const RAW_HOURS = `raw_hours AS (
    SELECT DISTINCT r.bucket FROM (
      SELECT ${HOUR_OF(":start")} AS bucket
      UNION ALL SELECT ${HOUR_OF(":end")}
      UNION ALL SELECT ${HOUR_OF("p.created_at")} FROM handle_policy p
                 WHERE p.created_at >= :start AND p.created_at < :end AND ${HOUR_OF("p.created_at")} < p.created_at
      UNION ALL SELECT ${HOUR_OF("e.occurred_at")} FROM audit_event e
                 WHERE (e.txid, e.seq) > (:cpTxid, :cpSeq) AND ${EVENT_IN_PERIOD}
    ) r
  )`;
/** Rollup rows of the whole, clean hours of the period. */
const CLEAN_ROLLUP = `audit_hourly_rollup r
   WHERE r.bucket >= :start AND r.bucket <= :end - interval '1 hour' AND r.bucket NOT IN (SELECT bucket FROM raw_hours)`;
/** The sealed events of the raw hours, each with its contribution (x). OFFSET 0 keeps the lateral
 *  subquery from being flattened into a join: each raw hour is one range of the occurred_at index,
 *  never a scan of the whole table (the shared statement runs with nested loops discouraged). */
const RAW_EVENTS = `raw_hours d
   CROSS JOIN LATERAL (SELECT * FROM audit_event e
                        WHERE e.occurred_at >= GREATEST(d.bucket, :start) AND e.occurred_at < LEAST(d.bucket + interval '1 hour', :end) AND ${SEALED}
                        OFFSET 0) e
   CROSS JOIN LATERAL ${ROLLUP_EVENT}`;
const POLICY_BUCKET = (t: string) => `width_bucket(${t}, ARRAY(SELECT p.created_at FROM handle_policy p ORDER BY p.created_at, p.version))`;

/**
 * The period's handle presentations, shared by the controls that declare `shared: "period_uses"`
 * (H-05, H-08, H-14, H-15, H-18): a report runs them in one statement over this MATERIALIZED CTE;
 * each control's definition is this CTE followed by its own query. One row per hour (not shown),
 * handle (handle_id) and actor — task lists: handle_id and actor_id NULL, a few rows per hour — with
 * the policy version in force (policy_bucket: its position among the versions in order of
 * creation): presentations (use_n: successful uses —
 * results fetched, audited polls, agent cancels — and denials of a handle, and successful task
 * lists), successful ones (ok_n, the last at last_ok_at, and per operation in ops), the range of
 * client addresses (ip_min … ip_max: more than one address when they differ), denials by cause
 * (principal, session, audience mismatch, policy invalidated) and presentations carrying a principal
 * or session mismatch cause (foreign_cause_n). Whole clean hours come from the hourly rollup, the
 * others from the sealed audit events themselves, aggregated by the same database function.
 */
export const PERIOD_USES = `WITH ${RAW_HOURS}
  SELECT ${POLICY_BUCKET("r.bucket")} AS policy_bucket, NULLIF(r.handle_id, '') AS handle_id, NULLIF(r.actor_id, '') AS actor_id,
         r.use_n, r.ok_n, r.last_ok_at, r.ops, r.ip_min, r.ip_max,
         r.denied_principal_n, r.denied_session_n, r.denied_audience_n, r.denied_policy_n, r.foreign_cause_n
    FROM ${CLEAN_ROLLUP} AND r.use_n > 0
  UNION ALL
  SELECT g.policy_bucket, g.handle_id, g.actor_id, sum(g.use_n)::bigint, sum(g.ok_n)::bigint, max(g.last_ok_at),
         COALESCE(jsonb_object_agg(g.op, g.ok_n) FILTER (WHERE g.op IS NOT NULL), '{}'::jsonb), min(g.ip_min), max(g.ip_max),
         sum(g.denied_principal_n)::bigint, sum(g.denied_session_n)::bigint, sum(g.denied_audience_n)::bigint, sum(g.denied_policy_n)::bigint,
         sum(g.foreign_cause_n)::bigint
    FROM (SELECT x.bucket, ${POLICY_BUCKET("e.occurred_at")} AS policy_bucket, x.handle_id, x.actor_id, CASE WHEN x.ok THEN x.operation END AS op,
                 count(*) AS use_n, count(*) FILTER (WHERE x.ok) AS ok_n, max(e.occurred_at) FILTER (WHERE x.ok) AS last_ok_at,
                 min(e.ip) AS ip_min, max(e.ip) AS ip_max,
                 count(*) FILTER (WHERE NOT x.ok AND x.cause = 'principal_mismatch') AS denied_principal_n,
                 count(*) FILTER (WHERE NOT x.ok AND x.cause IN ('session_mismatch', 'credential_mismatch')) AS denied_session_n,
                 count(*) FILTER (WHERE NOT x.ok AND x.cause = 'audience_mismatch') AS denied_audience_n,
                 count(*) FILTER (WHERE NOT x.ok AND x.cause = 'policy_invalidated') AS denied_policy_n,
                 count(*) FILTER (WHERE x.cause IN ('principal_mismatch', 'session_mismatch', 'credential_mismatch')) AS foreign_cause_n
            FROM ${RAW_EVENTS}
           WHERE x.is_use
           GROUP BY 1, 2, 3, 4, 5) g
   GROUP BY g.bucket, 1, 2, 3`;

/**
 * The period's audit events covered by the report's checkpoint whose text looks like a leaked
 * secret (see audit_rollup_event), as one row (leaking): the hourly rollup for whole clean hours,
 * the sealed events themselves for the others (see RAW_HOURS).
 */
export const PERIOD_LEAKING_EVENTS = `WITH ${RAW_HOURS}
SELECT COALESCE(sum(t.leaking), 0) AS leaking FROM (
  SELECT r.leaking_n AS leaking FROM ${CLEAN_ROLLUP} AND r.leaking_n > 0
  UNION ALL
  SELECT count(*) FILTER (WHERE x.leaking) FROM ${RAW_EVENTS}
) t`;

/** A control's query as it runs alone and as its definition reads: the shared CTE first, if it uses one. */
export function withSharedCte(shared: "period_uses" | undefined, body: string): string {
  if (!shared) return body;
  const head = `WITH period_uses AS (\n  ${PERIOD_USES}\n)`;
  return /^WITH\s/i.test(body) ? `${head},\n${body.replace(/^WITH\s+/i, "")}` : `${head}\n${body}`;
}

/** A text column as a uuid (NULL unless well-formed), so a join on it can use the uuid index. */
export const uuidOf = (expr: string) =>
  `CASE WHEN ${expr} ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN ${expr}::uuid END`;

/** The time at which a handle stopped being valid (revoked or expired, whichever came first). */
export const VALID_UNTIL = "LEAST(COALESCE(h.revoked_at, 'infinity'::timestamptz), h.expires_at)";

const STANDARD_PARAMS: Record<string, TParamType> = {
  start: "timestamptz",
  end: "timestamptz",
  cpTxid: "xid8",
  cpSeq: "bigint",
  cpPosition: "bigint",
  cpAt: "timestamptz",
  target: "float8",
  limit: "bigint",
};

const CAST: Record<TParamType, string> = {
  timestamptz: "::timestamptz",
  bigint: "::bigint",
  float8: "::float8",
  text: "::text",
  xid8: "::text::xid8",
};

// `:name` but not the second colon of a `::cast`.
const NAMED = /(?<![:\w]):([A-Za-z][A-Za-z0-9]*)\b/g;

export type TBoundQuery = { text: string; values: unknown[]; parameters: Record<string, string | number> };

/** Turns `:name` placeholders into `$n` with explicit casts, and lists the values shown with the report. */
export function bindMetricQuery(
  sql: string,
  ctx: TMetricContext & { limit?: number },
  extra: Record<string, { type: TParamType; value: number | string }> = {},
): TBoundQuery {
  const order: string[] = [];
  const text = sql.replace(NAMED, (_m, name: string) => {
    const type = extra[name]?.type ?? STANDARD_PARAMS[name];
    if (!type) throw new Error(`unknown metric parameter :${name}`);
    let i = order.indexOf(name);
    if (i < 0) i = order.push(name) - 1;
    return `$${i + 1}${CAST[type]}`;
  });
  const parameters: Record<string, string | number> = {};
  const values = order.map((name) => {
    const value = extra[name] ? extra[name].value : standardValue(ctx, name);
    parameters[name] = value instanceof Date ? value.toISOString() : (value as string | number);
    return value instanceof Date ? value.toISOString() : value;
  });
  return { text, values, parameters };
}

function standardValue(ctx: TMetricContext & { limit?: number }, name: string): Date | string | number {
  switch (name) {
    case "start":
      return ctx.start;
    case "end":
      return ctx.end;
    case "cpTxid":
      return ctx.cpTxid;
    case "cpSeq":
      return ctx.cpSeq;
    case "cpPosition":
      return ctx.cpPosition;
    case "cpAt":
      return ctx.cpAt;
    case "target":
      return ctx.target;
    case "limit":
      return ctx.limit ?? 10;
    default:
      throw new Error(`unknown metric parameter :${name}`);
  }
}
