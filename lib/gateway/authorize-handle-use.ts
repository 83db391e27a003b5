import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { safeEqual } from "@/lib/crypto/secrets";
import { decryptRowSecret } from "./decrypt-row-secret";
import { HANDLE_TOKEN_PATTERN, handleTokenHash, upstreamTaskContext } from "./handle-token";
import { loadGatewayRows, type TGatewayRows, type THandleRow, type TPolicyRow } from "./load-gateway-rows";
import { recordHandleDenial, type TDenialCause } from "./record-handle-denial";
import type { TTaskWire } from "./task-wire";

export type TUsableHandle = {
  id: string;
  accessor: string;
  /** The gateway session that minted it: its upstream session is where the upstream task lives. */
  sessionId: string | null;
  upstreamTaskId: string;
  status: string;
  statusMessage: string | null;
  effectiveTtlMs: number;
  expiresAt: Date;
  pollAuditEvery: boolean;
  wire: TTaskWire;
  /** Whether the policy lets results be fetched (on the 2026-07-28 wire they come inline in tasks/get). */
  resultAllowed: boolean;
};

/** Operations checked against the policy's allowed list; `related-task` is a message that names a task. */
export type THandleOperation = "tasks/get" | "tasks/result" | "tasks/cancel" | "tasks/update" | "related-task";

function denialCause(row: THandleRow, policy: TPolicyRow, input: THandleUseInput, now: Date): TDenialCause | null {
  // Binding first: a stolen token is recorded as stolen even when it is also revoked or expired.
  if (row.principal_id !== input.actor.id) return "principal_mismatch";
  if (row.server_id !== input.serverId) return "audience_mismatch";
  // A handle answers only on the wire it was minted on: the upstream task lives there (a
  // 2025-11-25 task in its upstream session; a 2026-07-28 task outside any session).
  if (row.wire !== input.wire) return "wire_mismatch";
  if (row.wire === "ext_2026_07_28") {
    // No sessions on this wire: the handle is bound to the credential that minted it instead.
    if (row.api_key_id !== (input.actor.type === "service" ? (input.actor.apiKeyId ?? null) : null)) return "credential_mismatch";
  } else if (policy.require_session_binding && row.session_id !== input.sessionId) return "session_mismatch";
  if (row.revoked_at) return "revoked";
  if (row.expires_at <= now) return "expired";
  if (row.policy_version < policy.min_valid_version) return "policy_invalidated";
  if (input.operation !== "related-task" && !policy.allowed_operations.includes(input.operation)) return "operation_not_allowed";
  return null;
}

export type THandleUseInput = {
  actor: TActor;
  serverId: string;
  /** The caller's gateway session; null on the session-less 2026-07-28 wire. */
  sessionId: string | null;
  /** The task wire of the call presenting the token. */
  wire: TTaskWire;
  token: unknown;
  operation: THandleOperation;
};

/** The token as presented (anything that is not a string is no token) and the hash it is looked up by. */
export function tokenLookup(token: unknown): { token: string; hash: string | null } {
  const value = typeof token === "string" ? token : "";
  // Not shaped like a token: no lookup at all (the format is public, so this reveals nothing).
  return { token: value, hash: HANDLE_TOKEN_PATTERN.test(value) ? handleTokenHash(value) : null };
}

export type TJudgement = { handle: TUsableHandle } | { cause: TDenialCause; found: { id: string; accessor: string } | null };

/** Judges a looked-up handle row (or its absence) for this use, recording nothing. */
export function judgeHandleRow(rows: Pick<TGatewayRows, "handle" | "policy">, input: THandleUseInput, lookup: { token: string; hash: string | null }): TJudgement {
  const { handle, policy } = rows;
  // The unique index found the row by hash; the constant-time compare is belt and braces.
  if (!lookup.hash || !handle || !policy || !safeEqual(handle.token_hash, lookup.hash)) return { cause: "unknown", found: null };
  const row = handle;
  const cause = denialCause(row, policy, input, new Date());
  if (cause) return { cause, found: { id: row.id, accessor: row.accessor } };
  return {
    handle: {
      id: row.id,
      accessor: row.accessor,
      sessionId: row.session_id,
      upstreamTaskId: decryptRowSecret(handle, row.upstream_task_id_enc, upstreamTaskContext(row.id)),
      status: row.status,
      statusMessage: row.status_message,
      effectiveTtlMs: row.effective_ttl_ms,
      expiresAt: row.expires_at,
      pollAuditEvery: policy.poll_audit_level === "every_poll",
      wire: row.wire,
      resultAllowed: policy.allowed_operations.includes("tasks/result"),
    },
  };
}

/** Records a refusal with its real reason; the caller answers exactly as for an unknown task. */
export async function recordJudgedDenial(judgement: Extract<TJudgement, { cause: TDenialCause }>, input: THandleUseInput, token: string): Promise<null> {
  await recordHandleDenial({ actor: input.actor, serverId: input.serverId, operation: input.operation, cause: judgement.cause, handle: judgement.found, token });
  return null;
}

/** Judges a looked-up row and records a refusal: the usable handle, or null. */
export async function checkHandleRow(rows: Pick<TGatewayRows, "handle" | "policy">, input: THandleUseInput, lookup: { token: string; hash: string | null }): Promise<TUsableHandle | null> {
  const judgement = judgeHandleRow(rows, input, lookup);
  return "handle" in judgement ? judgement.handle : recordJudgedDenial(judgement, input, lookup.token);
}

/**
 * The check on every use of a handle token: known, same principal, same audience (this server),
 * same session when the policy binds sessions, not revoked, not expired (whether or not the
 * sweeper has run), issued under a policy version still honoured, operation allowed. One query
 * reads the handle and the policy in force together (or the gateway cache, which never holds a
 * row longer than a notification takes: lib/gateway/gateway-cache.ts).
 */
export async function authorizeHandleUse(input: THandleUseInput): Promise<TUsableHandle | null> {
  const lookup = tokenLookup(input.token);
  const rows = lookup.hash ? await loadGatewayRows({ sessionHash: null, tokenHash: lookup.hash }) : { handle: null, policy: null };
  return checkHandleRow(rows, input, lookup);
}
