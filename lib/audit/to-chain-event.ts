import type { TChainEvent, TJson } from "./chain-core.mjs";

/** An audit_event row as read with raw SQL (snake_case columns). */
export type TAuditEventRow = {
  seq: string | bigint;
  id: string;
  /** ISO 8601 text from CHAIN_EVENT_COLUMNS, or a Date from other readers. */
  occurred_at: Date | string;
  actor_type: string;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  reason: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  payload: TJson;
};

/** Columns of an audit event in the shape TAuditEventRow expects. */
export const AUDIT_EVENT_COLUMNS = `e.seq::text AS seq, e.id::text AS id, e.occurred_at, e.actor_type::text AS actor_type, e.actor_id, e.actor_role,
  e.action, e.target_type, e.target_id, e.outcome::text AS outcome, e.reason, e.request_id, e.ip, e.user_agent, e.payload`;

/**
 * The same columns for the chain's readers (sealer, verifier, export), with the time already
 * formatted as the chain encodes it (ISO 8601, UTC, milliseconds): saves parsing a Date per
 * row on the verifier's hot path. The column is timestamptz(3), so no precision is lost.
 */
export const CHAIN_EVENT_COLUMNS = AUDIT_EVENT_COLUMNS.replace(
  "e.occurred_at,",
  `to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS occurred_at,`,
);

/**
 * The event as sealed in the chain: every stored field, as plain JSON, with 64-bit numbers
 * as decimal strings and times in ISO 8601 with milliseconds (docs/audit-format.md).
 */
export function toChainEvent(row: TAuditEventRow): TChainEvent {
  return {
    id: row.id,
    seq: String(row.seq),
    occurredAt: typeof row.occurred_at === "string" ? row.occurred_at : row.occurred_at.toISOString(),
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorRole: row.actor_role,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    outcome: row.outcome,
    reason: row.reason,
    requestId: row.request_id,
    ip: row.ip,
    userAgent: row.user_agent,
    payload: row.payload,
  };
}
