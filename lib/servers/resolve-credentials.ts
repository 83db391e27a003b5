import "server-only";
import { AppError } from "@/lib/errors";
import type { TOAuthCredentialsPatch } from "./schemas";
import {
  clientSecretMustBeReentered,
  originOf,
  readCredentials,
  tokenMustBeReentered,
  type TOAuthClientCredentials,
  type TUpstreamCredentials,
} from "./server-credentials";

/** Stored credentials as found: decrypted, none, or present but undecryptable. */
export type TStoredCredentials = TUpstreamCredentials | null | "unreadable";

/** A server's stored credentials, or "unreadable" when they no longer decrypt (they can still be replaced). */
export function storedCredentialsOf(server: { slug: string; credentialsEnc: string | null }): TStoredCredentials {
  try {
    return readCredentials(server.slug, server.credentialsEnc);
  } catch {
    return "unreadable";
  }
}

export type TResolvedCredentials = {
  /** keep: the stored credentials stay; set: `next` replaces them; clear: none from now on. */
  change: "keep" | "set" | "clear";
  /** The credentials in effect after the change (for keep: the stored ones). */
  next: TStoredCredentials;
  /** What the audit names: "credentials", and for OAuth the settings that changed (never a value). */
  changes: string[];
};

const OAUTH_SETTINGS = ["tokenUrl", "clientId", "clientSecret", "scope", "resource", "audience"] as const;

const REQUIRED: Array<{ field: "tokenUrl" | "clientId" | "clientSecret"; message: string }> = [
  { field: "tokenUrl", message: "Enter the token endpoint URL." },
  { field: "clientId", message: "Enter the client ID." },
  { field: "clientSecret", message: "Enter the client secret." },
];

/**
 * What a save or a check does with a server's credentials: a new bearer token, new or changed
 * OAuth client credentials (settings left out keep their stored values), removal, or nothing.
 * Enforces that a stored secret only goes where it was entered for: a server URL on another
 * origin needs the token or client secret entered again, and so does a token endpoint on another
 * origin.
 */
export function resolveCredentials(input: {
  stored: TStoredCredentials;
  /** The server's URL now (null: a server not registered yet). */
  currentUrl: string | null;
  nextUrl: string;
  bearerToken?: string | undefined;
  oauth?: TOAuthCredentialsPatch | undefined;
  clear?: boolean | undefined;
}): TResolvedCredentials {
  const { stored } = input;
  const movedOrigin = input.currentUrl !== null && originOf(input.nextUrl) !== originOf(input.currentUrl);

  if (input.bearerToken !== undefined) return { change: "set", next: { type: "bearer", token: input.bearerToken }, changes: ["credentials"] };

  if (input.oauth !== undefined) {
    const patch = input.oauth;
    const base = stored !== null && stored !== "unreadable" && stored.type === "oauth_client_credentials" ? stored : null;
    const pick = <K extends (typeof OAUTH_SETTINGS)[number]>(field: K) => (patch[field] !== undefined ? patch[field] : base?.[field]);
    const missing = REQUIRED.filter(({ field }) => !pick(field));
    if (missing.length > 0) {
      throw new AppError("INVALID_INPUT", missing.map((m) => m.message).join(" "), { issues: missing.map((m) => ({ path: `oauth.${m.field}`, message: m.message })) });
    }
    const next: TOAuthClientCredentials = {
      type: "oauth_client_credentials",
      tokenUrl: pick("tokenUrl")!,
      clientId: pick("clientId")!,
      clientSecret: pick("clientSecret")!,
      scope: pick("scope") ?? null,
      resource: pick("resource") ?? null,
      audience: pick("audience") ?? null,
    };
    if (base && patch.clientSecret === undefined) {
      if (originOf(next.tokenUrl) !== originOf(base.tokenUrl)) throw clientSecretMustBeReentered();
      if (movedOrigin) throw tokenMustBeReentered("oauth_client_credentials");
    }
    if (!base) return { change: "set", next, changes: ["credentials", "credentials.type"] };
    const changed = OAUTH_SETTINGS.filter((f) => next[f] !== base[f]);
    // The secret, given again unchanged, is not a change; nothing changed means nothing to save.
    if (changed.length === 0) return { change: "keep", next: base, changes: [] };
    return { change: "set", next, changes: ["credentials", ...changed.map((f) => `credentials.${f}`)] };
  }

  if (input.clear) return stored === null ? { change: "keep", next: null, changes: [] } : { change: "clear", next: null, changes: ["credentials"] };

  if (stored !== null && movedOrigin) throw tokenMustBeReentered(stored === "unreadable" ? "bearer" : stored.type);
  return { change: "keep", next: stored, changes: [] };
}
