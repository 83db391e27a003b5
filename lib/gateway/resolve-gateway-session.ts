import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { decryptSecret, keyedHash } from "@/lib/crypto/secrets";
import { getPool, getPrisma } from "@/lib/db/client";
import { GatewayHttpError, RPC_ERROR } from "./jsonrpc";
import { decryptRowSecret } from "./decrypt-row-secret";
import { loadGatewayRows, type TSessionRow } from "./load-gateway-rows";
import { upstreamSessionContext } from "./start-gateway-session";
import type { TUpstreamServer } from "./upstream";

/**
 * The gateway session a call belongs to. On the 2026-07-28 wire there are no sessions: `id` is
 * null and the protocol version is the one the request carries (see modernCallSession).
 */
export type TGatewaySession = { id: string | null; upstreamSessionId: string | null; protocolVersion: string | null };

/** A session-less call of the 2026-07-28 revision, in the protocol version the agent sent. */
export function modernCallSession(protocolVersion: string): TGatewaySession {
  return { id: null, upstreamSessionId: null, protocolVersion };
}

const SESSION_ID = /^[A-Za-z0-9_-]{16,128}$/;
// lastSeenAt is for humans and the idle view; minute precision keeps it off the hot path.
const LAST_SEEN_RESOLUTION_MS = 60_000;

export function sessionNotFound(): GatewayHttpError {
  // 404 tells an MCP client to start a new session (Streamable HTTP, "Session Management").
  return new GatewayHttpError(404, RPC_ERROR.SERVER, "Session not found");
}

/** The keyed hash to look a session up by, after the header's shape is checked (400 / 404 otherwise). */
export function sessionHashOf(sessionHeader: string | null): string {
  const header = sessionHeader?.trim() ?? "";
  if (!header) throw new GatewayHttpError(400, RPC_ERROR.SERVER, "Bad Request: Mcp-Session-Id header is required (send initialize first).");
  if (!SESSION_ID.test(header)) throw sessionNotFound();
  return keyedHash("gateway-session", header);
}

/**
 * The live session a looked-up row describes. A session belongs to one principal and one server:
 * presented by anyone else, or at another server's endpoint, it does not exist.
 */
export async function sessionFromRow(row: TSessionRow | null, input: { actor: TActor; server: TUpstreamServer }): Promise<TGatewaySession & { id: string }> {
  if (!row?.s_id || row.s_ended_at || row.s_principal_id !== input.actor.id || row.s_server_id !== input.server.id) throw sessionNotFound();
  if (Date.now() - row.s_last_seen_at.getTime() >= LAST_SEEN_RESOLUTION_MS) {
    await getPool().query(`UPDATE gateway_session SET last_seen_at = now() WHERE id = $1::uuid AND last_seen_at < now() - interval '1 minute'`, [row.s_id]);
  }
  return {
    id: row.s_id,
    upstreamSessionId: row.s_upstream_session_enc ? decryptRowSecret(row, row.s_upstream_session_enc, upstreamSessionContext(row.s_id)) : null,
    protocolVersion: row.s_protocol_version,
  };
}

/** The live session named by the agent's Mcp-Session-Id (one indexed lookup). */
export async function resolveGatewaySession(input: { actor: TActor; server: TUpstreamServer; sessionHeader: string | null }): Promise<TGatewaySession & { id: string }> {
  const hash = sessionHashOf(input.sessionHeader);
  const { session } = await loadGatewayRows({ sessionHash: hash, tokenHash: null });
  return sessionFromRow(session, input);
}

/**
 * The session a handle was minted in, for a call from another session of the same principal when
 * the policy does not bind sessions: the upstream task lives in that session's upstream session.
 */
export async function getMintingSession(sessionId: string): Promise<TGatewaySession | null> {
  const row = await getPrisma().gatewaySession.findUnique({
    where: { id: sessionId },
    select: { id: true, endedAt: true, upstreamSessionEnc: true, protocolVersion: true },
  });
  if (!row || row.endedAt) return null;
  return {
    id: row.id,
    upstreamSessionId: row.upstreamSessionEnc ? decryptSecret(row.upstreamSessionEnc, upstreamSessionContext(row.id)) : null,
    protocolVersion: row.protocolVersion,
  };
}
