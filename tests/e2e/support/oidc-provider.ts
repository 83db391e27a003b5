// A real, certified OpenID Provider (panva/oidc-provider) for sign-in tests. Its built-in
// development login form accepts any login; the login name decides the groups claim.
import Provider from "oidc-provider";
import type { Server } from "node:http";

export const OIDC_CLIENT_ID = "tether-e2e";
export const OIDC_CLIENT_SECRET = "tether-e2e-client-secret-0123456789abcdef";
export const OIDC_ROLE_MAP = "idp-security=reviewer,idp-auditors=auditor";

const GROUPS: Record<string, string[]> = {
  "sam-security": ["staff", "idp-security"],
  "ada-auditor": ["staff", "idp-auditors"],
  "nora-nobody": ["staff"],
};

export async function startOidcProvider(port: number, redirectUri: string): Promise<{ issuer: string; close(): Promise<void> }> {
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: OIDC_CLIENT_ID,
        client_secret: OIDC_CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "groups"] },
    // Put the requested claims into the ID token, where next-auth reads the profile from.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, name: sub, email: `${sub}@idp.e2e.test`, email_verified: true, groups: GROUPS[sub] ?? [] };
        },
      };
    },
  });
  const server: Server = await new Promise((resolve) => {
    const s = provider.listen(port, "127.0.0.1", () => resolve(s));
  });
  return { issuer, close: () => new Promise((r) => server.close(() => r())) };
}
