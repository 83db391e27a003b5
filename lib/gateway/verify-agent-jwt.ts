import "server-only";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWSAlgorithm, type JWTPayload } from "jose";
import { z } from "zod";
import { getEnv, type TEnv } from "@/lib/env";
import { describeErrorForLog, log } from "@/lib/log";

// Asymmetric signatures only. An HMAC algorithm would let anyone holding the secret (or, with a
// careless library, the public key) mint tokens; `none` is refused by jose whatever this says.
const ALGORITHMS: JWSAlgorithm[] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];
// Small enough that an expired token is not honoured for long, large enough for unsynchronised clocks.
const CLOCK_TOLERANCE_SECONDS = 30;
const FETCH_TIMEOUT_MS = 5_000;
// After a failed discovery, requests within this window fail fast instead of each asking the IdP again.
const DISCOVERY_RETRY_MS = 10_000;

export type TVerifiedAgentJwt = {
  issuer: string;
  subject: string;
  /** The agent's display name as the token tells it: client_id, else azp, else sub. */
  clientName: string;
};

export type TAgentOidcConfig = { issuer: string; audience: string; jwksUrl: string | undefined };

/** The gateway's OIDC settings, or null when agents may only use API keys. */
export function getAgentOidcConfig(env: TEnv = getEnv()): TAgentOidcConfig | null {
  const issuer = env.TETHER_AGENT_OIDC_ISSUER;
  if (!issuer) return null;
  const base = (env.TETHER_PUBLIC_URL ?? `http://${env.HOST}:${env.PORT}`).replace(/\/+$/, "");
  return { issuer, audience: env.TETHER_AGENT_OIDC_AUDIENCE ?? `${base}/mcp`, jwksUrl: env.TETHER_AGENT_OIDC_JWKS_URL };
}

const ZDiscovery = z.object({ issuer: z.string(), jwks_uri: z.string().url() });

type TKeySet = ReturnType<typeof createRemoteJWKSet>;
// One key set per process (jose caches the keys and refetches on an unknown `kid`), rebuilt only
// when the configuration changes. Keyed by the settings so that a test changing them gets a new one.
let keySet: { key: string; promise: Promise<TKeySet>; failedAt?: number } | undefined;

async function discoverJwksUrl(issuer: string): Promise<URL> {
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const res = await fetch(url, { headers: { accept: "application/json" }, redirect: "manual", signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (res.status !== 200) throw new Error(`OpenID discovery at ${url} answered HTTP ${res.status}`);
  const doc = ZDiscovery.safeParse(await res.json());
  if (!doc.success) throw new Error(`OpenID discovery at ${url} has no valid jwks_uri`);
  // OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was fetched for.
  if (doc.data.issuer !== issuer) throw new Error(`OpenID discovery at ${url} names another issuer (${doc.data.issuer})`);
  return new URL(doc.data.jwks_uri);
}

function getKeySet(config: TAgentOidcConfig): Promise<TKeySet> {
  const key = `${config.issuer}\n${config.jwksUrl ?? ""}`;
  const retry = keySet?.failedAt !== undefined && Date.now() - keySet.failedAt >= DISCOVERY_RETRY_MS;
  if (keySet?.key === key && !retry) return keySet.promise;
  const entry: NonNullable<typeof keySet> = {
    key,
    promise: (config.jwksUrl ? Promise.resolve(new URL(config.jwksUrl)) : discoverJwksUrl(config.issuer)).then((url) =>
      createRemoteJWKSet(url, { timeoutDuration: FETCH_TIMEOUT_MS }),
    ),
  };
  entry.promise.catch(() => {
    entry.failedAt = Date.now();
  });
  keySet = entry;
  return entry.promise;
}

function readName(payload: JWTPayload): string {
  const raw = [payload.client_id, payload.azp, payload.sub].find((v): v is string => typeof v === "string" && v.trim().length > 0)!;
  // The name is shown in the console and the audit trail: no control characters, bounded length.
  return raw.replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, 100) || payload.sub!.slice(0, 100);
}

/**
 * Verifies an agent's JWT access token against the configured issuer's published keys: the
 * signature (asymmetric algorithms only), `iss`, `aud` (this gateway), `exp` (required) and `nbf`.
 * Returns who the token names, or null for any token that must not authenticate, and when agent
 * OIDC is not configured. The token itself is never logged.
 */
export async function verifyAgentJwt(input: { token: string; requestId?: string }): Promise<TVerifiedAgentJwt | null> {
  const { token, requestId } = input;
  const config = getAgentOidcConfig();
  if (!config) return null;
  let jwks: TKeySet;
  try {
    jwks = await getKeySet(config);
  } catch (err) {
    log.error({ requestId, err: describeErrorForLog(err), issuer: config.issuer }, "agent OIDC: cannot load the issuer's keys");
    return null;
  }
  try {
    const { payload } = await jwtVerify(token, jwks, {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["exp", "sub"],
    });
    if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 255) return null;
    return { issuer: config.issuer, subject: payload.sub, clientName: readName(payload) };
  } catch (err) {
    // jose's plain JOSEError (e.g. the JWKS endpoint answered 500), a timeout, an invalid key set
    // or a network error is the IdP's problem and worth a warning; any other refusal is a bad token.
    const isTokenProblem =
      err instanceof joseErrors.JOSEError && err.code !== "ERR_JOSE_GENERIC" && !(err instanceof joseErrors.JWKSTimeout) && !(err instanceof joseErrors.JWKSInvalid);
    if (isTokenProblem) {
      // The code says which check refused it.
      log.debug({ requestId, code: err.code }, "agent OIDC: token refused");
    } else {
      log.warn({ requestId, err: describeErrorForLog(err), issuer: config.issuer }, "agent OIDC: token verification failed");
    }
    return null;
  }
}
