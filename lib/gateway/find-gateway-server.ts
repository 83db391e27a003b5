import "server-only";
import { getPool } from "@/lib/db/client";
import { gatewayCache } from "./gateway-cache";
import { GatewayHttpError, RPC_ERROR } from "./jsonrpc";
import type { TUpstreamServer } from "./upstream";

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The enabled, registered server behind `/mcp/{slug}`; anything else is one 404. */
export async function findGatewayServer(slug: string): Promise<TUpstreamServer> {
  const server = SLUG.test(slug) ? (gatewayCache()?.get<TUpstreamServer>("server", slug) ?? (await loadServer(slug))) : undefined;
  if (!server) throw new GatewayHttpError(404, RPC_ERROR.INVALID_REQUEST, `No MCP server is registered at /mcp/${SLUG.test(slug) ? slug : "…"}.`);
  return server;
}

async function loadServer(slug: string): Promise<TUpstreamServer | undefined> {
  const epoch = gatewayCache()?.readEpoch() ?? null;
  const { rows } = await getPool().query<TUpstreamServer>(
    `SELECT id::text AS id, slug, url, audience, credentials_enc AS "credentialsEnc" FROM mcp_server WHERE slug = $1 AND enabled AND removed_at IS NULL`,
    [slug],
  );
  const server = rows[0];
  if (server) gatewayCache()?.set("server", slug, server, { id: server.id, principalId: null }, epoch);
  return server;
}
