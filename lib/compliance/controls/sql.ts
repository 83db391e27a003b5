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

/**
 * One pass over the period's handle presentations, shared by the controls that declare
 * `shared: "period_uses"` (H-05, H-08, H-14, H-15, H-18): a report runs them in one statement that reads
 * the audit events once (a MATERIALIZED CTE); each control's definition is this CTE followed by its
 * own query. Grouped by handle, actor, address, success, operation, denial cause and the policy
 * version in force (its position among the versions in order of creation), with counts and the
 * last time. Successful uses are results fetched, audited polls and agent cancels, plus task lists
 * (no handle); denials are handle.denied events about a known handle.
 */
export const PERIOD_USES = `SELECT CASE WHEN e.target_type = 'handle' THEN e.target_id END AS handle_id,
         e.actor_id, e.ip, e.outcome = 'ok' AS ok,
         CASE e.action WHEN 'handle.result_fetched' THEN 'tasks/result'
                       WHEN 'handle.cancel_requested' THEN 'tasks/cancel'
                       WHEN 'gateway.tasks_listed' THEN 'tasks/list'
                       ELSE e.payload->>'operation' END AS operation,
         CASE WHEN e.action = 'handle.denied' THEN e.payload->>'cause' END AS cause,
         width_bucket(e.occurred_at, ARRAY(SELECT p.created_at FROM handle_policy p ORDER BY p.created_at, p.version)) AS policy_bucket,
         count(*) AS n, max(e.occurred_at) AS last_at
    FROM audit_event e
   WHERE ((e.target_type = 'handle' AND ((${HANDLE_USE} AND e.outcome = 'ok') OR e.action = 'handle.denied'))
          OR (e.action = 'gateway.tasks_listed' AND e.outcome = 'ok'))
     AND ${EVENT_IN_PERIOD} AND ${SEALED}
   GROUP BY 1, 2, 3, 4, 5, 6, 7`;

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
