import "server-only";
import { getPool } from "@/lib/db/client";
import { CURRENT_POLICY_FROM, HANDLE_CHECK_COLUMNS, judgeHandleRow, recordJudgedDenial, tokenLookup, type THandleCheckRow, type THandleOperation, type TUsableHandle } from "./authorize-handle-use";
import type { TGatewayContext } from "./create-exchange";
import { SESSION_COLUMNS, sessionFromRow, sessionHashOf, type TGatewaySession, type TSessionRow } from "./resolve-gateway-session";

/**
 * A task operation's session and handle in one statement (the gateway's hot path: every poll
 * comes through here): the session named by Mcp-Session-Id, the handle named by the token, and
 * the policy in force. The session is judged first (404 when it is not the caller's); then the
 * handle, exactly as authorizeHandleUse judges it. Nothing is cached.
 */
export async function resolveTaskCall(input: {
  ctx: Omit<TGatewayContext, "session">;
  sessionHeader: string | null;
  token: unknown;
  operation: THandleOperation;
}): Promise<{ session: TGatewaySession; handle: TUsableHandle | null; recordDenial: () => Promise<void> }> {
  const { ctx } = input;
  const sessionHash = sessionHashOf(input.sessionHeader);
  const lookup = tokenLookup(input.token);
  const { rows } = await getPool().query<TSessionRow & THandleCheckRow>(
    `SELECT ${SESSION_COLUMNS}, ${HANDLE_CHECK_COLUMNS}
       FROM ${CURRENT_POLICY_FROM}
       LEFT JOIN gateway_session s ON s.session_hash = $1
       LEFT JOIN handle h ON h.token_hash = $2`,
    [sessionHash, lookup.hash],
  );
  const row = rows[0];
  const session = await sessionFromRow(row, { actor: ctx.actor, server: ctx.server });
  const use = { actor: ctx.actor, serverId: ctx.server.id, sessionId: session.id, token: input.token, operation: input.operation };
  const judgement = judgeHandleRow(row, use, lookup);
  // The refusal is recorded by the caller, and only for calls within the rate limit: over it, a
  // flood of bad tokens must not turn into a flood of audit rows.
  if ("handle" in judgement) return { session, handle: judgement.handle, recordDenial: async () => undefined };
  return { session, handle: null, recordDenial: async () => void (await recordJudgedDenial(judgement, use, lookup.token)) };
}
