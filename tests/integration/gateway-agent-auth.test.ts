// Agent authentication at the gateway against the real database and a real OpenID provider: JWT
// access tokens from the configured issuer (client_credentials grant, RFC 8707 resource = the
// gateway) authenticate a service principal created on first use, with its audit event in the
// same commit; every token that must not authenticate (other audience, other issuer, expired,
// tampered, HMAC or unsigned, disabled agent, a console user's identity) gets null; API keys
// still work through the same entry point; and no refused token reaches a log line.
import { randomUUID } from "node:crypto";
import { SignJWT, base64url, decodeJwt } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { setServiceAccountDisabled } from "@/lib/api-keys/set-service-account-disabled";
import { getPrisma } from "@/lib/db/client";
import { resetEnvCache } from "@/lib/env";
import { authenticateAgent } from "@/lib/gateway/authenticate-agent";
import { log } from "@/lib/log";
import { actorFor, createPrincipal, newRequest, userActor } from "../factories/principals";
import { ES256_RESOURCE, startAgentIdp, type TAgentIdp } from "./support/agent-oidc-provider";
import { auditEventsFor, writerOf } from "./support/audit";
import { setUpEnv, setUpTestSecrets } from "./support/env";

// The default audience: TETHER_PUBLIC_URL (trailing slash and all) + /mcp.
const PUBLIC_URL = "https://tether.example.test/";
const AUDIENCE = "https://tether.example.test/mcp";
const run = randomUUID().slice(0, 8);
const client = (label: string) => `agent-${label}-${run}`;
const CLIENTS = ["first-use", "es256", "concurrent", "disabled", "user-clash", "name-clash", "refused", "jwks-url"].map(client);

const prisma = getPrisma();
let idp: TAgentIdp;
let otherIdp: TAgentIdp;
let sameKeysIdp: TAgentIdp;

// Registered before setUpEnv's hook, so the issuer is known when the environment is set.
beforeAll(async () => {
  idp = await startAgentIdp({ audience: AUDIENCE, clientIds: CLIENTS });
  otherIdp = await startAgentIdp({ audience: AUDIENCE, clientIds: CLIENTS });
  sameKeysIdp = await startAgentIdp({ audience: AUDIENCE, clientIds: CLIENTS, keys: idp.keys });
});
setUpTestSecrets();
setUpEnv(() => ({
  TETHER_PUBLIC_URL: PUBLIC_URL,
  TETHER_AGENT_OIDC_ISSUER: idp.issuer,
  TETHER_AGENT_OIDC_AUDIENCE: undefined,
  TETHER_AGENT_OIDC_JWKS_URL: undefined,
}));

afterAll(async () => {
  await Promise.all([idp?.close(), otherIdp?.close(), sameKeysIdp?.close()]);
  await prisma.$disconnect();
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const bearer = (token: string) => `Bearer ${token}`;

function findAgent(issuer: string, subject: string) {
  return prisma.principal.findUnique({ where: { oidcIssuer_oidcSubject: { oidcIssuer: issuer, oidcSubject: subject } } });
}

/** Runs `fn` with some environment variables changed, then puts them back. */
async function withEnv<T>(values: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const previous = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, value] of Object.entries(v)) {
      if (value === undefined) delete process.env[k];
      else process.env[k] = value;
    }
    resetEnvCache();
  };
  apply(values);
  try {
    return await fn();
  } finally {
    apply(previous);
  }
}

/** Every argument every log method received, as one string, to search for leaked tokens. */
function spyOnLogs(): () => string {
  const spies = (["trace", "debug", "info", "warn", "error", "fatal"] as const).map((level) => vi.spyOn(log, level).mockImplementation(() => undefined));
  return () => JSON.stringify(spies.flatMap((s) => s.mock.calls));
}

/** The jose error code the verifier logged for its refusal (no code: refused before verification). */
function refusalCode(logged: string): string | undefined {
  return /"code":"(ERR_[A-Z_]+)"/.exec(logged)?.[1];
}

describe("authenticateAgent with an OIDC access token", () => {
  it("creates a viewer service principal on first use, audited once in the same commit, and reuses it afterwards", async () => {
    const clientId = client("first-use");
    const token = await idp.issueToken(clientId);
    expect(decodeJwt(token)).toMatchObject({ iss: idp.issuer, aud: AUDIENCE, sub: clientId, client_id: clientId });
    const request = newRequest({ ip: "2001:db8::7", userAgent: "agent/1" });

    const actor = await authenticateAgent(bearer(token), request);

    const principal = await findAgent(idp.issuer, clientId);
    expect(principal).toMatchObject({ kind: "service", role: "viewer", name: clientId, email: null, passwordHash: null, disabledAt: null });
    expect(actor).toEqual({ type: "service", id: principal!.id, role: "viewer", name: clientId, request });
    const events = await auditEventsFor(prisma, principal!.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "user.created",
      actorType: "system",
      actorId: "system",
      outcome: "ok",
      targetType: "principal",
      requestId: request.requestId,
      ip: "2001:db8::7",
      userAgent: "agent/1",
      payload: { email: null, role: "viewer", kind: "service" },
    });
    expect(events[0]!.reason).toContain(idp.issuer);
    expect(await writerOf(prisma, "audit_event", events[0]!.id)).toBe(await writerOf(prisma, "principal", principal!.id));

    // A second token of the same agent: same principal, no new row, no new event.
    const again = await authenticateAgent(`bearer   ${await idp.issueToken(clientId)}`, newRequest());
    expect(again).toMatchObject({ type: "service", id: principal!.id });
    expect(await prisma.principal.count({ where: { oidcIssuer: idp.issuer, oidcSubject: clientId } })).toBe(1);
    expect(await auditEventsFor(prisma, principal!.id)).toHaveLength(1);
  });

  it("keeps the role an admin gave the agent later", async () => {
    const clientId = client("first-use");
    const principal = await findAgent(idp.issuer, clientId);
    await prisma.principal.update({ where: { id: principal!.id }, data: { role: "support" } });
    expect(await authenticateAgent(bearer(await idp.issueToken(clientId)), newRequest())).toMatchObject({ id: principal!.id, role: "support" });
  });

  it("accepts an ES256-signed token too", async () => {
    const clientId = client("es256");
    const token = await idp.issueToken(clientId, ES256_RESOURCE);
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(token.split(".")[0]!)))).toMatchObject({ alg: "ES256" });
    expect(await authenticateAgent(bearer(token), newRequest())).toMatchObject({ type: "service", name: clientId });
  });

  it("creates the principal once when an agent's first requests arrive together", async () => {
    const clientId = client("concurrent");
    const tokens = await Promise.all([1, 2, 3].map(() => idp.issueToken(clientId)));
    const actors = await Promise.all(tokens.map((t) => authenticateAgent(bearer(t), newRequest())));
    const ids = new Set(actors.map((a) => a?.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toEqual(expect.any(String));
    expect(await auditEventsFor(prisma, [...ids][0]!, "user.created")).toHaveLength(1);
  });

  it("names the agent distinctly when a service account already has its name", async () => {
    const clientId = client("name-clash");
    await createPrincipal(prisma, { kind: "service", email: null, name: clientId.toUpperCase() });
    const actor = await authenticateAgent(bearer(await idp.issueToken(clientId)), newRequest());
    expect(actor?.name).toMatch(new RegExp(`^${clientId} \\(OIDC [0-9a-f]{8}\\)$`));
  });

  it("refuses a disabled agent", async () => {
    const clientId = client("disabled");
    const actor = await authenticateAgent(bearer(await idp.issueToken(clientId)), newRequest());
    expect(actor).not.toBeNull();
    const admin = actorFor(await createPrincipal(prisma, { role: "admin" }));
    await setServiceAccountDisabled({ actor: admin, data: { principalId: actor!.id, disabled: true, reason: "compromised" } });

    expect(await authenticateAgent(bearer(await idp.issueToken(clientId)), newRequest())).toBeNull();
    expect(await prisma.principal.count({ where: { oidcIssuer: idp.issuer, oidcSubject: clientId } })).toBe(1);
  });

  it("refuses a token whose (iss, sub) belongs to a console user, and creates nothing", async () => {
    const clientId = client("user-clash");
    const user = await createPrincipal(prisma, { kind: "user", oidc: { issuer: idp.issuer, subject: clientId } });
    expect(await authenticateAgent(bearer(await idp.issueToken(clientId)), newRequest())).toBeNull();
    expect(await prisma.principal.findMany({ where: { oidcIssuer: idp.issuer, oidcSubject: clientId } })).toEqual([user]);
  });

  it("fetches the discovery document once per process, or not at all when the JWKS URL is configured", async () => {
    const clientId = client("jwks-url");
    await authenticateAgent(bearer(await idp.issueToken(client("first-use"))), newRequest());
    const hits = idp.discoveryHits();
    expect(hits).toBe(1);
    for (let i = 0; i < 3; i++) expect(await authenticateAgent(bearer(await idp.issueToken(clientId)), newRequest())).not.toBeNull();
    expect(idp.discoveryHits()).toBe(hits);

    await withEnv({ TETHER_AGENT_OIDC_JWKS_URL: idp.jwksUrl }, async () => {
      expect(await authenticateAgent(bearer(await idp.issueToken(clientId)), newRequest())).toMatchObject({ name: clientId });
    });
    expect(idp.discoveryHits()).toBe(hits);
  });
});

describe("authenticateAgent refuses", () => {
  const clientId = client("refused");

  /** Refused, nothing created, nothing of the token logged; `code` is the check that refused it. */
  async function expectRefused(token: string, code: string | undefined) {
    const logged = spyOnLogs();
    const before = await prisma.principal.count();
    expect(await authenticateAgent(bearer(token), newRequest())).toBeNull();
    expect(await prisma.principal.count()).toBe(before);
    expect(refusalCode(logged())).toBe(code);
    expect(logged()).not.toContain(token);
    expect(logged()).not.toContain(token.split(".")[2] || "\u0000");
    vi.restoreAllMocks();
  }

  it("a token for another audience", async () => {
    const token = await idp.issueToken(clientId, "https://other-api.example.test/");
    expect(decodeJwt(token).aud).toBe("https://other-api.example.test/");
    await expectRefused(token, "ERR_JWT_CLAIM_VALIDATION_FAILED");
  });

  it("a token from another issuer (a second provider), even one signing with the same keys", async () => {
    const token = await otherIdp.issueToken(clientId);
    expect(decodeJwt(token)).toMatchObject({ iss: otherIdp.issuer, aud: AUDIENCE });
    await expectRefused(token, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
    const sameKeys = await sameKeysIdp.issueToken(clientId);
    expect(decodeJwt(sameKeys)).toMatchObject({ iss: sameKeysIdp.issuer, aud: AUDIENCE });
    await expectRefused(sameKeys, "ERR_JWT_CLAIM_VALIDATION_FAILED");
  });

  it("an expired token", async () => {
    // Issued by the provider two hours ago, so its exp is genuinely in the past.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() - 2 * 3_600_000 });
    const token = await idp.issueToken(clientId);
    vi.useRealTimers();
    expect(decodeJwt(token).exp! * 1000).toBeLessThan(Date.now() - 60_000);
    await expectRefused(token, "ERR_JWT_EXPIRED");
  });

  it("a token with a tampered signature or payload", async () => {
    const token = await idp.issueToken(clientId);
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const i = Math.floor(signature.length / 2);
    const flipped = signature.slice(0, i) + (signature[i] === "A" ? "B" : "A") + signature.slice(i + 1);
    await expectRefused(`${header}.${payload}.${flipped}`, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
    const claims = { ...decodeJwt(token), sub: client("first-use"), client_id: client("first-use") };
    await expectRefused(`${header}.${base64url.encode(JSON.stringify(claims))}.${signature}`, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
  });

  it("an HS256 token signed with a secret, even one naming the provider's key id", async () => {
    const claims = { client_id: clientId };
    const sign = (kid?: string) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256", ...(kid ? { kid } : {}) })
        .setIssuer(idp.issuer)
        .setAudience(AUDIENCE)
        .setSubject(clientId)
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode("a shared secret that nobody should accept 0123456789"));
    await expectRefused(await sign(), "ERR_JOSE_ALG_NOT_ALLOWED");
    await expectRefused(await sign("rsa-1"), "ERR_JOSE_ALG_NOT_ALLOWED");
  });

  it("an unsigned token (alg none)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const header = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }));
    const payload = base64url.encode(JSON.stringify({ iss: idp.issuer, aud: AUDIENCE, sub: clientId, iat: now, exp: now + 300 }));
    await expectRefused(`${header}.${payload}.`, "ERR_JOSE_ALG_NOT_ALLOWED");
  });

  it("a valid token when no agent issuer is configured", async () => {
    const token = await idp.issueToken(clientId);
    await withEnv({ TETHER_AGENT_OIDC_ISSUER: undefined }, () => expectRefused(token, undefined));
  });

  it("a valid token when the configured audience is another one", async () => {
    const token = await idp.issueToken(clientId);
    await withEnv({ TETHER_AGENT_OIDC_AUDIENCE: "https://elsewhere.example.test/mcp" }, () => expectRefused(token, "ERR_JWT_CLAIM_VALIDATION_FAILED"));
  });

  it("every token while the issuer's discovery document or key set cannot be read, logging why but not the token", async () => {
    const token = await idp.issueToken(clientId);
    await withEnv({ TETHER_AGENT_OIDC_ISSUER: `${idp.issuer}/missing` }, async () => {
      const logged = spyOnLogs();
      expect(await authenticateAgent(bearer(token), newRequest())).toBeNull();
      expect(logged()).toContain("cannot load the issuer's keys");
      expect(logged()).toContain("HTTP 404");
      expect(logged()).not.toContain(token);
    });
    await withEnv({ TETHER_AGENT_OIDC_JWKS_URL: `${idp.issuer}/no-such-jwks` }, async () => {
      vi.restoreAllMocks();
      const logged = spyOnLogs();
      expect(await authenticateAgent(bearer(token), newRequest())).toBeNull();
      expect(logged()).toContain("token verification failed");
      expect(logged()).not.toContain(token);
    });
  });

  it("garbage headers", async () => {
    for (const header of [null, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc.def.ghi", "Bearer a b", "Bearer not-a-jwt", "Bearer a.b.c", "Bearer ey.ey.ey.ey.ey", `Bearer ${"a".repeat(20_000)}.b.c`]) {
      expect(await authenticateAgent(header, newRequest())).toBeNull();
    }
  });
});

describe("authenticateAgent with an API key", () => {
  it("authenticates the key's service account, whatever the case of the scheme", async () => {
    const account = await createPrincipal(prisma, { kind: "service", email: null, role: "reviewer" });
    const { key, dto } = await createApiKey({ actor: userActor("admin"), data: { principalId: account.id, name: "gateway key" } });
    const request = newRequest();
    expect(await authenticateAgent(`BEARER ${key}`, request)).toEqual({
      type: "service",
      id: account.id,
      role: "reviewer",
      name: account.name,
      apiKeyId: dto.id,
      request,
    });
    expect(await authenticateAgent(`Bearer ${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`, newRequest())).toBeNull();
    expect(await authenticateAgent(`Basic ${key}`, newRequest())).toBeNull();
  });
});
