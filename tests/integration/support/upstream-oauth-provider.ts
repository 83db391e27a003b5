// A real OAuth 2.0 authorization server (panva/oidc-provider) that issues JWT access tokens for
// an upstream MCP server through the client_credentials grant: what an organisation's IdP does
// when Tether is registered there as a client of one of its MCP servers. Every token request is
// recorded (client, status, parameters) so tests can count them. A token's lifetime is chosen per
// client, so a test can make tokens expire in seconds.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider, { errors } from "oidc-provider";

/** Scopes the upstream's resource server knows. */
export const UPSTREAM_SCOPES = "mcp:tools mcp:tasks";

export type TOAuthClient = { clientId: string; clientSecret: string; ttlSeconds?: number };

export type TTokenRequest = { clientId: string | null; status: number; params: Record<string, string> };

export type TUpstreamIdp = {
  issuer: string;
  tokenUrl: string;
  jwksUrl: string;
  /** Every request to the token endpoint, in order. */
  tokenRequests: TTokenRequest[];
  /** Successful token requests of one client. */
  issuedTo(clientId: string): number;
  close(): Promise<void>;
};

function clientIdOf(authorization: string | undefined): string | null {
  const match = authorization ? /^Basic (.+)$/i.exec(authorization) : null;
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  return decodeURIComponent(decoded.slice(0, decoded.indexOf(":")).replace(/\+/g, " "));
}

/** `audience`: the resource indicator (RFC 8707) tokens are issued for; it becomes their `aud`. */
export async function startUpstreamIdp(options: { audience: string; clients: TOAuthClient[] }): Promise<TUpstreamIdp> {
  // Listen first: the issuer URL names the port, and the provider needs the issuer to be built.
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rsa = await generateKeyPair("RS256", { extractable: true });
  const ttlByClient = new Map(options.clients.map((c) => [c.clientId, c.ttlSeconds ?? 600]));
  const tokenRequests: TTokenRequest[] = [];

  const provider = new Provider(issuer, {
    jwks: { keys: [{ ...(await exportJWK(rsa.privateKey)), kid: "upstream-rsa-1", alg: "RS256", use: "sig" }] },
    ttl: { ClientCredentials: (_ctx, _token, client) => ttlByClient.get(client.clientId) ?? 600 },
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: "client_secret_basic",
    })),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        async getResourceServerInfo(_ctx, resourceIndicator) {
          if (resourceIndicator !== options.audience) throw new errors.InvalidTarget("unknown resource");
          return { scope: UPSTREAM_SCOPES, audience: options.audience, accessTokenFormat: "jwt" };
        },
      },
    },
  });
  provider.use(async (ctx, next) => {
    if (ctx.path !== "/token" || ctx.method !== "POST") return next();
    await next();
    const body = (ctx.oidc as { body?: Record<string, unknown> } | undefined)?.body ?? {};
    const params = Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === "string"));
    tokenRequests.push({ clientId: clientIdOf(ctx.get("authorization") || undefined), status: ctx.status, params });
  });
  server.on("request", provider.callback());

  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    jwksUrl: `${issuer}/jwks`,
    tokenRequests,
    issuedTo: (clientId) => tokenRequests.filter((r) => r.clientId === clientId && r.status === 200).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
