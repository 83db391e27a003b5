import "server-only";
import { createHash } from "node:crypto";
import { authenticateApiKey } from "@/lib/api-keys/authenticate-api-key";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import type { TActor, TRequestMeta } from "@/lib/auth/actor";
import type { TRole } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db/client";
import type { TTx } from "@/lib/db/types";
import { getAgentOidcConfig, verifyAgentJwt, type TVerifiedAgentJwt } from "./verify-agent-jwt";

// Longer headers are refused before any parsing; real JWT access tokens stay well below this.
const MAX_HEADER_LENGTH = 16 * 1024;
// RFC 6750 §2.1: `Bearer` (any case), one or more spaces, a b64token. Nothing else: no tabs,
// no line breaks, no second token.
const BEARER = /^ *[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*) *$/;
// A JWS in compact serialization (header.payload.signature); an empty signature still goes to
// the verifier, which refuses `alg: none` like any other unsigned token.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// Agents that appear through OIDC start with the least role; an admin can raise it in the console.
const OIDC_AGENT_ROLE: TRole = "viewer";

/** The token of an `Authorization: Bearer <token>` header, or null for any other header. */
export function parseBearerToken(header: string | null | undefined): string | null {
  if (typeof header !== "string" || header.length > MAX_HEADER_LENGTH) return null;
  return BEARER.exec(header)?.[1] ?? null;
}

/**
 * The agent behind a gateway request's Authorization header, or null for anything that must not
 * authenticate. A Tether API key (`tth_…`) goes to the API-key check; a JWT goes to the OIDC check
 * when an agent issuer is configured, and its (iss, sub) names a service principal, created on
 * first use. Every refusal is the same null, and the token never appears in a log or an error.
 */
export async function authenticateAgent(authorizationHeader: string | null, request: TRequestMeta): Promise<TActor | null> {
  const token = parseBearerToken(authorizationHeader);
  if (!token) return null;
  if (token.startsWith("tth_")) return authenticateApiKey(token, request);
  if (!COMPACT_JWS.test(token) || !getAgentOidcConfig()) return null;

  const verified = await verifyAgentJwt({ token, requestId: request.requestId });
  if (!verified) return null;
  const principal = await findOrCreateOidcAgent(verified, request);
  // Only agents: the same (iss, sub) on a console user (or a disabled agent) authenticates nobody.
  if (!principal || principal.kind !== "service" || principal.disabledAt) return null;
  return { type: "service", id: principal.id, role: principal.role, name: principal.name, request };
}

type TAgentRow = { id: string; kind: string; role: TRole; name: string; disabledAt: Date | null };
const AGENT_SELECT = { id: true, kind: true, role: true, name: true, disabledAt: true } as const;

async function findOrCreateOidcAgent(identity: TVerifiedAgentJwt, request: TRequestMeta): Promise<TAgentRow | null> {
  const db = getPrisma();
  const where = { oidcIssuer_oidcSubject: { oidcIssuer: identity.issuer, oidcSubject: identity.subject } };
  // Every request after the first takes this path: one indexed lookup, no lock.
  const existing = await db.principal.findUnique({ where, select: AGENT_SELECT });
  if (existing) return existing;

  const create = () =>
    db.$transaction(async (tx) => {
      // The lock createServiceAccount takes: service-account names stay unique, and two first
      // requests of one agent at once create it once (the second finds the first's row).
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('tether:service-accounts'))`;
      const raced = await tx.principal.findUnique({ where, select: AGENT_SELECT });
      if (raced) return raced;
      const name = await chooseName(tx, identity);
      const created = await tx.principal.create({
        data: { kind: "service", role: OIDC_AGENT_ROLE, name, oidcIssuer: identity.issuer, oidcSubject: identity.subject },
        select: AGENT_SELECT,
      });
      await recordAuditEvent(tx, {
        actor: { type: "system", id: "system", name: "gateway", request },
        action: "user.created",
        target: { type: "principal", id: created.id },
        reason: `first gateway request with an OpenID Connect access token from ${identity.issuer}`,
        payload: { email: null, role: OIDC_AGENT_ROLE, kind: "service" },
      });
      return created;
    });
  try {
    return await create();
  } catch (err) {
    // A console sign-in of the same (iss, sub) does not take the lock above; the unique index
    // decides, and the retry finds whatever won.
    if ((err as { code?: string }).code !== "P2002") throw err;
    return db.principal.findUnique({ where, select: AGENT_SELECT });
  }
}

/** The token's name, or, when a service account already has it, the name with a stable suffix. */
async function chooseName(tx: TTx, identity: TVerifiedAgentJwt): Promise<string> {
  const suffix = createHash("sha256").update(`${identity.issuer}\n${identity.subject}`).digest("hex").slice(0, 8);
  for (const candidate of [identity.clientName, `${identity.clientName} (OIDC ${suffix})`]) {
    const taken = await tx.principal.findFirst({ where: { kind: "service", name: { equals: candidate, mode: "insensitive" } }, select: { id: true } });
    if (!taken) return candidate;
  }
  // Both taken: only an admin naming an account after this agent's suffix gets here.
  return `${identity.clientName} (OIDC ${suffix}-${Date.now().toString(36)})`;
}
