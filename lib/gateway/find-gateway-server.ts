import "server-only";
import { getPrisma } from "@/lib/db/client";
import { GatewayHttpError, RPC_ERROR } from "./jsonrpc";
import type { TUpstreamServer } from "./upstream";

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The enabled, registered server behind `/mcp/{slug}`; anything else is one 404. */
export async function findGatewayServer(slug: string): Promise<TUpstreamServer> {
  const server = SLUG.test(slug)
    ? await getPrisma().mcpServer.findFirst({
        where: { slug, enabled: true, removedAt: null },
        select: { id: true, slug: true, url: true, audience: true, credentialsEnc: true },
      })
    : null;
  if (!server) throw new GatewayHttpError(404, RPC_ERROR.INVALID_REQUEST, `No MCP server is registered at /mcp/${SLUG.test(slug) ? slug : "…"}.`);
  return server;
}
