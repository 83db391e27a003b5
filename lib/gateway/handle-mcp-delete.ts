import "server-only";
import { requestMetaFrom } from "@/lib/http/request-meta";
import { authenticateGatewayCall } from "./authenticate-gateway-call";
import type { TGatewayRequest } from "./buffered-request";
import { endGatewaySession } from "./end-gateway-session";
import { SESSION_HEADER, gatewayErrorResponse } from "./gateway-http";
import { resolveGatewaySession } from "./resolve-gateway-session";
import { deleteUpstreamSession } from "./upstream";

/** DELETE /mcp/{server}: the agent ends its session; the upstream session and the session's live handles end with it. */
export async function handleMcpDelete(request: TGatewayRequest, slug: string): Promise<Response> {
  const meta = requestMetaFrom(request.headers);
  try {
    const { actor, server } = await authenticateGatewayCall(request, slug, meta);
    const session = await resolveGatewaySession({ actor, server, sessionHeader: request.headers.get(SESSION_HEADER) });
    await deleteUpstreamSession({ server, sessionId: session.upstreamSessionId, protocolVersion: session.protocolVersion });
    await endGatewaySession({ actor, sessionId: session.id, serverId: server.id, cause: "client_ended" });
    return new Response(null, { status: 200 });
  } catch (err) {
    return gatewayErrorResponse(err, meta.requestId);
  }
}
