// A real OpenID Provider (panva/oidc-provider) that issues JWT access tokens to agents through
// the client_credentials grant, the way an organisation's IdP would for Tether's gateway. The
// resource indicator (RFC 8707) decides the token's audience and signing algorithm:
//   the gateway audience        → aud = gateway, RS256
//   ES256_RESOURCE               → aud = gateway, ES256
//   anything else                → aud = that resource (a token for some other API)
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";

export const ES256_RESOURCE = "urn:tether-test:es256";
const CLIENT_SECRET = "agent-client-secret-0123456789abcdef0123456789";

type TPrivateJwk = Awaited<ReturnType<typeof signingKeys>>[number];

export type TAgentIdp = {
  issuer: string;
  /** The provider's private signing keys (RS256 `rsa-1`, ES256 `ec-1`). */
  keys: TPrivateJwk[];
  jwksUrl: string;
  /** How many times the discovery document was fetched. */
  discoveryHits(): number;
  /** A JWT access token for `clientId` (sub = client_id = clientId), for `resource` (default: the gateway). */
  issueToken(clientId: string, resource?: string): Promise<string>;
  close(): Promise<void>;
};

async function signingKeys() {
  const rsa = await generateKeyPair("RS256", { extractable: true });
  const ec = await generateKeyPair("ES256", { extractable: true });
  return [
    { ...(await exportJWK(rsa.privateKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
    { ...(await exportJWK(ec.privateKey)), kid: "ec-1", alg: "ES256", use: "sig" },
  ];
}

/** `keys`: sign with another provider's keys (to test the issuer check on its own). */
export async function startAgentIdp(options: { audience: string; clientIds: string[]; keys?: TPrivateJwk[] }): Promise<TAgentIdp> {
  // Listen first: the issuer URL names the port, and the provider needs the issuer to be built.
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let discoveryHits = 0;
  const keys = options.keys ?? (await signingKeys());

  const provider = new Provider(issuer, {
    jwks: { keys: structuredClone(keys) },
    ttl: { ClientCredentials: 600 },
    clients: options.clientIds.map((clientId) => ({
      client_id: clientId,
      client_secret: CLIENT_SECRET,
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
          if (resourceIndicator === options.audience) return { scope: "", audience: options.audience, accessTokenFormat: "jwt" };
          if (resourceIndicator === ES256_RESOURCE) {
            return { scope: "", audience: options.audience, accessTokenFormat: "jwt", jwt: { sign: { alg: "ES256" } } };
          }
          return { scope: "", audience: resourceIndicator, accessTokenFormat: "jwt" };
        },
      },
    },
  });
  provider.use(async (ctx, next) => {
    if (ctx.path === "/.well-known/openid-configuration") discoveryHits += 1;
    await next();
  });
  server.on("request", provider.callback());

  return {
    issuer,
    keys,
    jwksUrl: `${issuer}/jwks`,
    discoveryHits: () => discoveryHits,
    async issueToken(clientId, resource = options.audience) {
      const res = await fetch(`${issuer}/token`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(CLIENT_SECRET)}`).toString("base64")}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ grant_type: "client_credentials", resource }),
      });
      const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${body.error} ${body.error_description}`);
      return body.access_token;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
