import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { decryptSecret, keyedHash } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { GatewayHttpError, RPC_ERROR } from "./jsonrpc";
import { upstreamSessionContext } from "./start-gateway-session";
import type { TUpstreamServer } from "./upstream";

export type TGatewaySession = { id: string; upstreamSessionId: string | null; protocolVersion: string | null };

const SESSION_ID = /^[A-Za-z0-9_-]{16,128}$/;
// lastSeenAt is for humans and the idle view; minute precision keeps it off the hot path.
const LAST_SEEN_RESOLUTION_MS = 60_000;

export function sessionNotFound(): GatewayHttpError {
  // 404 tells an MCP client to start a new session (Streamable HTTP, "Session Management").
  return new GatewayHttpError(404, RPC_ERROR.SERVER, "Session not found");
}

/**
 * The live session named by the agent's Mcp-Session-Id. A session belongs to one principal and
 * one server: presented by anyone else, or at another server's endpoint, it does not exist.
 */
export async function resolveGatewaySession(input: { actor: TActor; server: TUpstreamServer; sessionHeader: string | null }): Promise<TGatewaySession> {
  const header = input.sessionHeader?.trim() ?? "";
  if (!header) throw new GatewayHttpError(400, RPC_ERROR.SERVER, "Bad Request: Mcp-Session-Id header is required (send initialize first).");
  if (!SESSION_ID.test(header)) throw sessionNotFound();
  const db = getPrisma();
  const row = await db.gatewaySession.findUnique({
    where: { sessionHash: keyedHash("gateway-session", header) },
    select: { id: true, principalId: true, serverId: true, endedAt: true, upstreamSessionEnc: true, protocolVersion: true, lastSeenAt: true },
  });
  if (!row || row.endedAt || row.principalId !== input.actor.id || row.serverId !== input.server.id) throw sessionNotFound();
  if (Date.now() - row.lastSeenAt.getTime() >= LAST_SEEN_RESOLUTION_MS) {
    await db.$executeRaw`UPDATE gateway_session SET last_seen_at = now() WHERE id = ${row.id}::uuid AND last_seen_at < now() - interval '1 minute'`;
  }
  return {
    id: row.id,
    upstreamSessionId: row.upstreamSessionEnc ? decryptSecret(row.upstreamSessionEnc, upstreamSessionContext(row.id)) : null,
    protocolVersion: row.protocolVersion,
  };
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
