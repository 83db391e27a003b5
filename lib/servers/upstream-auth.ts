import "server-only";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { getEnv } from "@/lib/env";
import { log } from "@/lib/log";
import { readCredentials, type TOAuthClientCredentials, type TUpstreamCredentials } from "./server-credentials";

// How Tether authenticates at an upstream MCP server: the one place that turns a server's stored
// credentials into the Authorization header every upstream call carries (gateway relay, status
// polls, cancels, connection and health checks).
//
// OAuth 2.0 client credentials (RFC 6749 §4.4, client_secret_basic §2.3.1): Tether asks the
// configured token endpoint for an access token and sends it as a bearer token (RFC 6750). The
// token is cached in memory per server until shortly before `expires_in`; concurrent callers share
// one token request; a refused or failed token request is remembered for a moment, so an upstream
// with a broken token endpoint is not hammered by every poll. An upstream 401 drops the token and
// the call is retried once with a fresh one. Secrets (client secret, access token) never leave
// this module except in the Authorization header: error messages are Tether's own words, the
// provider's error code, and its description scrubbed of the secrets.

/** What a server row must carry for Tether to authenticate at it. */
export type TUpstreamAuthServer = { id: string; slug: string; credentialsEnc: string | null };

/** Credentials plus the cache slot their access tokens live in. */
export type TUpstreamAuth = { cacheKey: string; version: string; credentials: TUpstreamCredentials | null };

export type TUpstreamAuthFailure = "credentials_unreadable" | "token_endpoint_unreachable" | "token_endpoint_refused" | "token_endpoint_invalid";

/** Tether could not get the credentials to call an upstream. The message is safe to show: no secret in it. */
export class UpstreamAuthError extends Error {
  constructor(
    readonly kind: TUpstreamAuthFailure,
    message: string,
  ) {
    super(message);
    this.name = "UpstreamAuthError";
  }
}

/**
 * Refresh this long before the token expires: a tenth of its lifetime, at least a second (`exp`
 * counts whole seconds, and clocks differ), at most a minute, and never more than half of it.
 */
const MAX_REFRESH_MARGIN_MS = 60_000;
const MIN_REFRESH_MARGIN_MS = 1_000;
/** A token response without `expires_in` is trusted this long (an upstream 401 also drops it). */
const DEFAULT_TOKEN_LIFETIME_MS = 5 * 60_000;
/** A failed token request answers every caller for this long before the endpoint is asked again. */
const FAILURE_HOLD_MS = 2_000;
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
const MAX_ACCESS_TOKEN_LENGTH = 16 * 1024;
const MAX_DECRYPTED_ENTRIES = 1_000;

type TToken = { accessToken: string };
type TCacheEntry = { version: string; promise: Promise<TToken>; refreshAt: number; token: string | null };

const tokens = new Map<string, TCacheEntry>();
const decrypted = new Map<string, TUpstreamCredentials | null>();

/** The credentials of a registered server; decrypted once per envelope (the gateway calls this for every message). */
export function upstreamAuthOf(server: TUpstreamAuthServer): TUpstreamAuth {
  if (!server.credentialsEnc) return { cacheKey: server.id, version: "", credentials: null };
  const memoKey = `${server.slug}\0${server.credentialsEnc}`;
  let credentials = decrypted.get(memoKey);
  if (credentials === undefined) {
    try {
      credentials = readCredentials(server.slug, server.credentialsEnc);
    } catch {
      throw new UpstreamAuthError(
        "credentials_unreadable",
        "Tether could not decrypt the server's stored credentials (was TETHER_ENCRYPTION_KEY changed?). An administrator must enter them again.",
      );
    }
    if (decrypted.size >= MAX_DECRYPTED_ENTRIES) decrypted.clear();
    decrypted.set(memoKey, credentials);
  }
  // The envelope changes with every save, so new credentials never meet an old server's token.
  return { cacheKey: server.id, version: server.credentialsEnc, credentials };
}

/**
 * Credentials that are not (yet) stored, for one connection check: their tokens live in a slot
 * of their own, released with `releaseUpstreamAuth` when the check is done.
 */
export function ephemeralUpstreamAuth(credentials: TUpstreamCredentials | null): TUpstreamAuth {
  return { cacheKey: `check:${randomUUID()}`, version: "", credentials };
}

export function releaseUpstreamAuth(auth: TUpstreamAuth): void {
  if (auth.cacheKey.startsWith("check:")) tokens.delete(auth.cacheKey);
}

/** The Authorization header value for calls to this server (null: it takes none). */
export async function getUpstreamAuthorization(server: TUpstreamAuthServer): Promise<string | null> {
  return getUpstreamAuthorizationFor(upstreamAuthOf(server));
}

/** The same, for credentials at hand (a connection check of credentials not stored yet). */
export async function getUpstreamAuthorizationFor(auth: TUpstreamAuth): Promise<string | null> {
  return (await authorizationOf(auth)).header;
}

/** Forgets the server's cached access token: the next call fetches a fresh one. */
export function invalidateUpstreamToken(serverId: string): void {
  tokens.delete(serverId);
}

/**
 * Runs one upstream HTTP call with the server's Authorization header. When the upstream answers
 * 401 to an OAuth access token, the token is dropped and the call is made once more with a fresh
 * one (the body of a request Tether sends is a string, so it can be sent twice).
 */
export async function fetchWithUpstreamAuth(auth: TUpstreamAuth, send: (authorization: string | null) => Promise<Response>): Promise<Response> {
  const first = await authorizationOf(auth);
  const response = await send(first.header);
  if (response.status !== 401 || auth.credentials?.type !== "oauth_client_credentials") return response;
  await response.body?.cancel().catch(() => undefined);
  dropToken(auth, first.token);
  const second = await authorizationOf(auth);
  return send(second.header);
}

// ---- internals -------------------------------------------------------------------------------

async function authorizationOf(auth: TUpstreamAuth): Promise<{ header: string | null; token: string | null }> {
  const c = auth.credentials;
  if (!c) return { header: null, token: null };
  if (c.type === "bearer") return { header: `Bearer ${c.token}`, token: null };
  const { accessToken } = await accessTokenOf(auth, c);
  return { header: `Bearer ${accessToken}`, token: accessToken };
}

function accessTokenOf(auth: TUpstreamAuth, c: TOAuthClientCredentials): Promise<TToken> {
  const cached = tokens.get(auth.cacheKey);
  if (cached && cached.version === auth.version && Date.now() < cached.refreshAt) return cached.promise;
  const sentAt = Date.now();
  const entry: TCacheEntry = { version: auth.version, promise: Promise.resolve({ accessToken: "" }), refreshAt: Number.POSITIVE_INFINITY, token: null };
  entry.promise = requestAccessToken(c).then(
    ({ accessToken, lifetimeMs }) => {
      entry.token = accessToken;
      entry.refreshAt = sentAt + lifetimeMs - Math.min(MAX_REFRESH_MARGIN_MS, Math.max(Math.min(MIN_REFRESH_MARGIN_MS, lifetimeMs / 2), lifetimeMs / 10));
      return { accessToken };
    },
    (err: unknown) => {
      entry.refreshAt = Date.now() + FAILURE_HOLD_MS;
      throw err;
    },
  );
  // Callers await it; this only keeps a failure nobody awaits any more from being "unhandled".
  entry.promise.catch(() => undefined);
  tokens.set(auth.cacheKey, entry);
  return entry.promise;
}

/** Drops the token a call was refused with, unless another call already replaced it. */
function dropToken(auth: TUpstreamAuth, token: string | null): void {
  const cached = tokens.get(auth.cacheKey);
  if (cached && (token === null || cached.token === token)) tokens.delete(auth.cacheKey);
}

const ZTokenResponse = z.object({
  access_token: z.string().min(1).max(MAX_ACCESS_TOKEN_LENGTH).regex(/^[\x21-\x7e]+$/),
  token_type: z.string().optional(),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
});

const ZTokenError = z.object({
  error: z.string().regex(/^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/),
  error_description: z.string().optional(),
});

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the token endpoint";
  }
}

/** Provider text, on one line, short, with every secret Tether holds for it cut out. */
function scrub(text: string, c: TOAuthClientCredentials): string {
  let clean = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  for (const secret of [c.clientSecret, encodeURIComponent(c.clientSecret)]) clean = clean.split(secret).join("[redacted]");
  return clean.length > 160 ? `${clean.slice(0, 160)}…` : clean;
}

/** Socket-level failure codes, outermost first (fetch wraps them in `cause`). */
function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (let current = err, depth = 0; current && typeof current === "object" && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

async function readLimited(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_TOKEN_RESPONSE_BYTES) throw new Error("too large");
      chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined for Basic auth. */
function basicAuthorization(c: TOAuthClientCredentials): string {
  const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${encode(c.clientId)}:${encode(c.clientSecret)}`).toString("base64")}`;
}

async function requestAccessToken(c: TOAuthClientCredentials): Promise<{ accessToken: string; lifetimeMs: number }> {
  const host = hostOf(c.tokenUrl);
  const timeoutMs = getEnv().TETHER_SERVER_PROBE_TIMEOUT_MS;
  const body = new URLSearchParams({ grant_type: "client_credentials" });
  if (c.scope) body.set("scope", c.scope);
  if (c.resource) body.set("resource", c.resource);
  if (c.audience) body.set("audience", c.audience);

  let response: Response;
  let text: string;
  try {
    response = await fetch(c.tokenUrl, {
      method: "POST",
      headers: { authorization: basicAuthorization(c), "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body,
      // A redirect would carry the client's credentials somewhere it was not configured to go.
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await readLimited(response);
  } catch (err) {
    const codes = errorCodes(err);
    const timedOut = (err instanceof Error && err.name === "TimeoutError") || codes.includes("UND_ERR_CONNECT_TIMEOUT");
    const failure = timedOut
      ? new UpstreamAuthError("token_endpoint_unreachable", `The OAuth token endpoint at ${host} did not answer within ${timeoutMs} ms.`)
      : err instanceof Error && err.message === "too large"
        ? new UpstreamAuthError("token_endpoint_invalid", `The OAuth token endpoint at ${host} sent a response larger than Tether accepts.`)
        : new UpstreamAuthError("token_endpoint_unreachable", `Could not reach the OAuth token endpoint at ${host}${codes[0] ? ` (${codes[0]})` : ""}.`);
    log.warn({ tokenEndpoint: host, kind: failure.kind, code: codes[0] ?? null }, "OAuth token request failed");
    throw failure;
  }

  let json: unknown = undefined;
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  try {
    json = JSON.parse(text);
  } catch {
    /* named below */
  }
  const fail = (kind: TUpstreamAuthFailure, message: string): never => {
    log.warn({ tokenEndpoint: host, kind, status: response.status }, "OAuth token request failed");
    throw new UpstreamAuthError(kind, message);
  };

  if (!response.ok) {
    const oauthError = ZTokenError.safeParse(json);
    if (oauthError.success) {
      const { error, error_description: description } = oauthError.data;
      const whom = error === "invalid_client" || error === "unauthorized_client" ? "the client" : "the token request";
      const detail = description ? ` (${scrub(description, c)})` : "";
      return fail("token_endpoint_refused", `OAuth token endpoint refused ${whom}: ${error}${detail}. HTTP ${response.status} from ${host}.`);
    }
    if (response.status >= 300 && response.status < 400) {
      return fail("token_endpoint_invalid", `The OAuth token endpoint at ${host} answered with a redirect (HTTP ${response.status}); Tether does not follow it. Enter the final token endpoint URL.`);
    }
    return fail("token_endpoint_invalid", `The OAuth token endpoint at ${host} answered HTTP ${response.status}${type ? ` (${type})` : ""}, not an OAuth token or error response.`);
  }
  if (json === undefined) return fail("token_endpoint_invalid", `The OAuth token endpoint at ${host} answered with ${type || "no content type"}, not with a JSON token response.`);
  const parsed = ZTokenResponse.safeParse(json);
  if (!parsed.success) return fail("token_endpoint_invalid", `The OAuth token endpoint at ${host} answered JSON without a usable access_token.`);
  const tokenType = parsed.data.token_type;
  if (tokenType !== undefined && tokenType.toLowerCase() !== "bearer") {
    return fail("token_endpoint_invalid", `The OAuth token endpoint at ${host} issued a ${scrub(tokenType, c).slice(0, 40)} token; Tether sends only Bearer tokens upstream.`);
  }
  const expiresIn = parsed.data.expires_in;
  const lifetimeMs = expiresIn !== undefined && Number.isFinite(expiresIn) && expiresIn > 0 ? Math.min(expiresIn, 86_400) * 1000 : DEFAULT_TOKEN_LIFETIME_MS;
  return { accessToken: parsed.data.access_token, lifetimeMs };
}
