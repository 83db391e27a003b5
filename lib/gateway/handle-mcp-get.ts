import "server-only";
import { requestMetaFrom } from "@/lib/http/request-meta";
import { authenticateGatewayCall } from "./authenticate-gateway-call";
import type { TGatewayRequest } from "./buffered-request";
import { createExchange } from "./create-exchange";
import { endGatewaySession } from "./end-gateway-session";
import { SESSION_HEADER, gatewayErrorResponse } from "./gateway-http";
import { GatewayHttpError, RPC_ERROR } from "./jsonrpc";
import { relayUpstreamAnswer } from "./relay-upstream-answer";
import { resolveGatewaySession, sessionNotFound } from "./resolve-gateway-session";
import { openUpstreamStream, upstreamUnavailable } from "./upstream";

/**
 * GET /mcp/{server}: the session's server-to-client SSE stream, relayed from the caller's own
 * upstream session. Task messages on it are translated to the caller's tokens; messages about
 * tasks the caller holds no handle for are dropped.
 */
export async function handleMcpGet(request: TGatewayRequest, slug: string): Promise<Response> {
  const meta = requestMetaFrom(request.headers);
  try {
    const { actor, server } = await authenticateGatewayCall(request, slug, meta);
    if (!(request.headers.get("accept") ?? "").includes("text/event-stream")) {
      throw new GatewayHttpError(406, RPC_ERROR.SERVER, "Not Acceptable: the client must accept text/event-stream.");
    }
    const session = await resolveGatewaySession({ actor, server, sessionHeader: request.headers.get(SESSION_HEADER) });
    if (!session.upstreamSessionId) throw new GatewayHttpError(405, RPC_ERROR.SERVER, "Method Not Allowed: this server has no server-to-client stream.", { allow: "POST, DELETE" });
    let upstream: Response;
    const local = new AbortController();
    try {
      upstream = await openUpstreamStream(
        { server, sessionId: session.upstreamSessionId, protocolVersion: session.protocolVersion, signal: AbortSignal.any([request.signal, local.signal]) },
        request.headers.get("last-event-id"),
      );
    } catch (err) {
      throw upstreamUnavailable(err);
    }
    if (upstream.status === 404) {
      await upstream.body?.cancel();
      await endGatewaySession({ actor, sessionId: session.id, serverId: server.id, cause: "upstream_session_lost" });
      throw sessionNotFound();
    }
    if (upstream.status === 405) {
      await upstream.body?.cancel();
      throw new GatewayHttpError(405, RPC_ERROR.SERVER, "Method Not Allowed: this server has no server-to-client stream.", { allow: "POST, DELETE" });
    }
    if (upstream.status === 409) {
      await upstream.body?.cancel();
      throw new GatewayHttpError(409, RPC_ERROR.SERVER, "Conflict: only one stream per session is allowed.");
    }
    if (!upstream.ok) {
      await upstream.body?.cancel();
      throw new GatewayHttpError(502, RPC_ERROR.UPSTREAM_UNAVAILABLE, `The upstream server refused the stream (HTTP ${upstream.status}).`);
    }
    const ctx = { actor, server, session, downstreamSessionId: request.headers.get(SESSION_HEADER)!.trim(), signal: request.signal, wire: "core_2025_11_25" as const };
    return await relayUpstreamAnswer(upstream, createExchange(ctx, { method: "GET stream", pendingId: null }), () => local.abort());
  } catch (err) {
    return gatewayErrorResponse(err, meta.requestId);
  }
}
