import "server-only";
import type { TActor } from "@/lib/auth/actor";
import { requestMetaFrom } from "@/lib/http/request-meta";
import { authenticateAgent } from "./authenticate-agent";
import { findGatewayServer } from "./find-gateway-server";
import { unauthenticated } from "./gateway-http";
import type { TUpstreamServer } from "./upstream";

/** First step of every gateway call: who the agent is (401 otherwise), then which server it addresses (404 otherwise). */
export async function authenticateGatewayCall(request: Request, slug: string): Promise<{ actor: TActor; server: TUpstreamServer }> {
  const actor = await authenticateAgent(request.headers.get("authorization"), requestMetaFrom(request.headers));
  if (!actor) throw unauthenticated();
  return { actor, server: await findGatewayServer(slug) };
}
