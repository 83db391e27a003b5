import "server-only";
import type { TActor, TRequestMeta } from "@/lib/auth/actor";
import { requestMetaFrom } from "@/lib/http/request-meta";
import { authenticateAgent } from "./authenticate-agent";
import type { TGatewayRequest } from "./buffered-request";
import { findGatewayServer } from "./find-gateway-server";
import { unauthenticated } from "./gateway-http";
import type { TUpstreamServer } from "./upstream";

/** First step of every gateway call: who the agent is (401 otherwise), then which server it addresses (404 otherwise). */
export async function authenticateGatewayCall(
  request: TGatewayRequest,
  slug: string,
  meta: TRequestMeta = requestMetaFrom(request.headers),
): Promise<{ actor: TActor; server: TUpstreamServer }> {
  const actor = await authenticateAgent(request.headers.get("authorization"), meta);
  if (!actor) throw unauthenticated();
  return { actor, server: await findGatewayServer(slug) };
}
