import "server-only";
import { judgeHandleRow, recordJudgedDenial, tokenLookup, type THandleOperation, type TUsableHandle } from "./authorize-handle-use";
import type { TGatewayContext } from "./create-exchange";
import { loadGatewayRows } from "./load-gateway-rows";
import { modernCallSession, sessionFromRow, sessionHashOf, type TGatewaySession } from "./resolve-gateway-session";

/**
 * A task operation's session and handle in one statement (the gateway's hot path: every poll
 * comes through here): the session named by Mcp-Session-Id, the handle named by the token, and
 * the policy in force. The session is judged first (404 when it is not the caller's); then the
 * handle, exactly as authorizeHandleUse judges it. From the gateway cache when it holds them.
 * On the 2026-07-28 wire (`modernVersion` set) there is no session to resolve.
 */
export async function resolveTaskCall(input: {
  ctx: Omit<TGatewayContext, "session">;
  sessionHeader: string | null;
  /** The protocol version of a session-less 2026-07-28 call; null for the 2025-11-25 wire. */
  modernVersion: string | null;
  token: unknown;
  operation: THandleOperation;
}): Promise<{ session: TGatewaySession; handle: TUsableHandle | null; recordDenial: () => Promise<void> }> {
  const { ctx } = input;
  const sessionHash = input.modernVersion === null ? sessionHashOf(input.sessionHeader) : null;
  const lookup = tokenLookup(input.token);
  const rows = await loadGatewayRows({ sessionHash, tokenHash: lookup.hash });
  const session = input.modernVersion === null ? await sessionFromRow(rows.session, { actor: ctx.actor, server: ctx.server }) : modernCallSession(input.modernVersion);
  const use = { actor: ctx.actor, serverId: ctx.server.id, sessionId: session.id, wire: ctx.wire, token: input.token, operation: input.operation };
  const judgement = judgeHandleRow(rows, use, lookup);
  // The refusal is recorded by the caller, and only for calls within the rate limit: over it, a
  // flood of bad tokens must not turn into a flood of audit rows.
  if ("handle" in judgement) return { session, handle: judgement.handle, recordDenial: async () => undefined };
  return { session, handle: null, recordDenial: async () => void (await recordJudgedDenial(judgement, use, lookup.token)) };
}
