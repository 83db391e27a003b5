import "server-only";
import { z } from "zod";
import { decryptSecret, encryptSecret } from "@/lib/crypto/secrets";
import { AppError } from "@/lib/errors";

// Upstream credentials at rest: an AES-256-GCM envelope bound to the server's slug. Everything
// Tether needs to authenticate at the upstream lives inside the envelope, the OAuth token
// endpoint URL included: GCM authenticates it, so nobody who can only write the database can
// redirect the client secret to a host of their choosing.

const ZBearer = z.object({ type: z.literal("bearer"), token: z.string().min(1) });
const ZOAuthClientCredentials = z.object({
  type: z.literal("oauth_client_credentials"),
  tokenUrl: z.string().min(1),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  scope: z.string().nullable().default(null),
  resource: z.string().nullable().default(null),
  audience: z.string().nullable().default(null),
});
const ZStoredCredentials = z.discriminatedUnion("type", [ZBearer, ZOAuthClientCredentials]);

export type TBearerCredentials = z.infer<typeof ZBearer>;
export type TOAuthClientCredentials = z.infer<typeof ZOAuthClientCredentials>;
/** Decrypted upstream credentials: only ever held in memory, never logged or returned. */
export type TUpstreamCredentials = z.infer<typeof ZStoredCredentials>;
export type TCredentialsKind = TUpstreamCredentials["type"] | "none";

/** The OAuth settings that are not secret (RFC 6749 §2.2: a client id is not a secret). */
export type TOAuthSettings = Omit<TOAuthClientCredentials, "type" | "clientSecret">;

/** Context the credentials envelope is bound to (AES-GCM associated data). */
export function serverCredentialsContext(slug: string): string {
  return `server-credentials:${slug}`;
}

export function encryptCredentials(slug: string, credentials: TUpstreamCredentials): string {
  return encryptSecret(JSON.stringify(credentials), serverCredentialsContext(slug));
}

export function encryptBearerCredentials(slug: string, token: string): string {
  return encryptCredentials(slug, { type: "bearer", token });
}

/** The stored credentials of a server, or null when none are stored. Throws when they cannot be decrypted. */
export function readCredentials(slug: string, credentialsEnc: string | null): TUpstreamCredentials | null {
  if (!credentialsEnc) return null;
  return ZStoredCredentials.parse(JSON.parse(decryptSecret(credentialsEnc, serverCredentialsContext(slug))));
}

export function oauthSettingsOf(c: TOAuthClientCredentials): TOAuthSettings {
  return { tokenUrl: c.tokenUrl, clientId: c.clientId, scope: c.scope, resource: c.resource, audience: c.audience };
}

/** What a page may show of stored credentials: their kind, and the OAuth settings that are not secret. */
export function describeStoredCredentials(slug: string, credentialsEnc: string | null): { kind: TCredentialsKind | "unreadable"; oauth: TOAuthSettings | null } {
  if (!credentialsEnc) return { kind: "none", oauth: null };
  let credentials: TUpstreamCredentials | null;
  try {
    credentials = readCredentials(slug, credentialsEnc);
  } catch {
    return { kind: "unreadable", oauth: null };
  }
  if (!credentials) return { kind: "none", oauth: null };
  return { kind: credentials.type, oauth: credentials.type === "oauth_client_credentials" ? oauthSettingsOf(credentials) : null };
}

export function originOf(url: string): string {
  return new URL(url).origin;
}

/** A stored secret is only ever sent to the origin it was entered for. */
export function tokenMustBeReentered(kind: TCredentialsKind = "bearer"): AppError {
  if (kind === "oauth_client_credentials") {
    const message =
      "The server URL points at another host now: enter the OAuth client secret again (or remove the credentials), so an access token never goes to a host it was not entered for.";
    return new AppError("INVALID_INPUT", message, { issues: [{ path: "oauth.clientSecret", message }] });
  }
  const message = "The URL points at another host now: enter the bearer token again (or remove it), so a stored token never goes to a host it was not entered for.";
  return new AppError("INVALID_INPUT", message, { issues: [{ path: "bearerToken", message }] });
}

/** The stored client secret is only ever sent to the token endpoint origin it was entered for. */
export function clientSecretMustBeReentered(): AppError {
  const message = "The token endpoint points at another host now: enter the client secret again, so it never goes to a host it was not entered for.";
  return new AppError("INVALID_INPUT", message, { issues: [{ path: "oauth.clientSecret", message }] });
}
