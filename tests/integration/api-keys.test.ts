// Service accounts and API keys against the real database: who may manage them, what each use
// case refuses, that every change commits with its audit event, that the full key is never
// stored, how authentication treats every kind of bad key, the lastUsedAt throttle, the
// revocation of the live handles minted with a revoked key, and the REST adapter with a key.
import { randomUUID } from "node:crypto";
import { NextRequest } from "next/server";
import { afterAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { GET as getApiKeysRoute, POST as postApiKeysRoute } from "@/app/api/v1/api-keys/route";
import { POST as postRevokeRoute } from "@/app/api/v1/api-keys/[id]/revoke/route";
import { GET as getServiceAccountsRoute, POST as postServiceAccountsRoute } from "@/app/api/v1/service-accounts/route";
import { API_KEY_PATTERN } from "@/lib/api-keys/api-key-format";
import { authenticateApiKey } from "@/lib/api-keys/authenticate-api-key";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { createServiceAccount } from "@/lib/api-keys/create-service-account";
import { listApiKeys } from "@/lib/api-keys/list-api-keys";
import { listServiceAccounts } from "@/lib/api-keys/list-service-accounts";
import { revokeApiKey } from "@/lib/api-keys/revoke-api-key";
import { setServiceAccountDisabled } from "@/lib/api-keys/set-service-account-disabled";
import { systemActor, type TActor } from "@/lib/auth/actor";
import type { TRole } from "@/lib/auth/permissions";
import { keyedHash } from "@/lib/crypto/secrets";
import { getPool, getPrisma } from "@/lib/db/client";
import { resetEnvCache } from "@/lib/env";
import { gatewayCache, stopGatewayCache } from "@/lib/gateway/gateway-cache";
import { revokeLiveHandles } from "@/lib/handles/revoke-live-handles";
import { actorFor, createPrincipal, newRequest, userActor } from "../factories/principals";
import { auditEventsFor, auditEventsOfRequest } from "./support/audit";
import { setUpTestSecrets } from "./support/env";
import { expectAppError, issuePaths } from "./support/errors";
import { FORCED_AUDIT_FAILURE, withFailingAuditInserts } from "./support/triggers";
import { insertHandle } from "../factories/handles";

setUpTestSecrets();

const prisma = getPrisma();

afterAll(async () => {
  await prisma.$disconnect();
});

const DENIED_ROLES = ["reviewer", "support", "auditor", "viewer"] as const;
const DAY_MS = 86_400_000;

// ---- helpers ------------------------------------------------------------------------------

/** The transaction that last wrote a row (xmin): equal values mean one commit. */
async function writerOf(table: "principal" | "api_key" | "handle" | "audit_event", id: string): Promise<string> {
  const rows = await prisma.$queryRawUnsafe<Array<{ xmin: string }>>(`SELECT xmin::text AS xmin FROM ${table} WHERE id = $1::uuid`, id);
  if (rows.length !== 1) throw new Error(`no ${table} row ${id}`);
  return rows[0]!.xmin;
}

/** A whole row as text, to search it for leaked values. */
function asText(row: unknown): string {
  return JSON.stringify(row, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
}

/** A console admin backed by a real principal row (handle.revoked_by_id references principals). */
async function realAdmin(): Promise<Extract<TActor, { type: "user" }>> {
  return actorFor(await createPrincipal(prisma, { role: "admin" }));
}

/** A service account row made directly (no use case, no audit event). */
function serviceAccountRow(overrides: { role?: TRole; disabled?: boolean } = {}) {
  return createPrincipal(prisma, { kind: "service", email: null, role: overrides.role ?? "viewer", disabled: overrides.disabled ?? false });
}

/** A service account with one key issued through the use case; returns the full key. */
async function accountWithKey(overrides: { role?: TRole; expiresInDays?: number | null } = {}) {
  const account = await serviceAccountRow({ role: overrides.role ?? "viewer" });
  const { key, dto } = await createApiKey({
    actor: userActor("admin"),
    data: { principalId: account.id, name: "test key", ...(overrides.expiresInDays === undefined ? {} : { expiresInDays: overrides.expiresInDays }) },
  });
  return { account, key, dto };
}

async function createServer() {
  const slug = `s-${randomUUID().slice(0, 8)}`;
  return prisma.mcpServer.create({ data: { slug, name: `Server ${slug}`, url: "http://127.0.0.1:9/mcp", audience: `http://tether.test/mcp/${slug}` } });
}

async function createHandle(input: { principalId: string; serverId: string; apiKeyId: string | null; expiresAt?: Date; revokedAt?: Date | null }) {
  return insertHandle(prisma, input);
}

// ---- service accounts ---------------------------------------------------------------------

describe("createServiceAccount", () => {
  it("creates a service principal (no email, no password, viewer by default) and audits it in the same commit (admin)", async () => {
    const actor = userActor("admin");
    const name = `agent-${randomUUID()}`;

    const dto = await createServiceAccount({ actor, data: { name: `  ${name} ` } });

    expect(dto).toEqual({ id: expect.any(String), name, role: "viewer", disabledAt: null, createdAt: expect.any(Date), activeKeys: 0 });
    const row = await prisma.principal.findUniqueOrThrow({ where: { id: dto.id } });
    expect(row).toMatchObject({ kind: "service", email: null, passwordHash: null, role: "viewer", name });
    const events = await auditEventsFor(prisma, dto.id);
    expect(events).toMatchObject([
      { action: "user.created", actorId: actor.id, actorRole: "admin", targetType: "principal", requestId: actor.request.requestId, payload: { email: null, role: "viewer", kind: "service" } },
    ]);
    expect(await writerOf("audit_event", events[0]!.id)).toBe(await writerOf("principal", dto.id));
  });

  it("takes the role it is given", async () => {
    const dto = await createServiceAccount({ actor: userActor("admin"), data: { name: `agent-${randomUUID()}`, role: "reviewer" } });
    expect(dto.role).toBe("reviewer");
  });

  it.each(DENIED_ROLES)("refuses %s with FORBIDDEN and writes nothing", async (role) => {
    const actor = userActor(role);
    const name = `denied-${randomUUID()}`;
    const error = await expectAppError(createServiceAccount({ actor, data: { name } }), "FORBIDDEN");
    expect(error.status).toBe(403);
    expect(await prisma.principal.count({ where: { name } })).toBe(0);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("refuses invalid input with INVALID_INPUT naming each field", async () => {
    const actor = userActor("admin");
    const error = await expectAppError(createServiceAccount({ actor, data: { name: "   ", role: "root" } }), "INVALID_INPUT");
    expect(error.status).toBe(422);
    expect(issuePaths(error)).toEqual(["name", "role"]);
    expect(issuePaths(await expectAppError(createServiceAccount({ actor, data: null }), "INVALID_INPUT"))).toEqual(["(root)"]);
    expect(issuePaths(await expectAppError(createServiceAccount({ actor, data: { name: "x".repeat(121) } }), "INVALID_INPUT"))).toEqual(["name"]);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("refuses a name another service account has (ignoring case) with CONFLICT on name", async () => {
    const name = `dup-${randomUUID()}`;
    await createServiceAccount({ actor: userActor("admin"), data: { name } });
    const actor = userActor("admin");
    const error = await expectAppError(createServiceAccount({ actor, data: { name: name.toUpperCase() } }), "CONFLICT");
    expect(error.issues).toEqual([{ path: "name", message: "A service account with this name already exists." }]);
    expect(await prisma.principal.count({ where: { name: { equals: name, mode: "insensitive" } } })).toBe(1);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });
});

describe("listServiceAccounts", () => {
  it("lists service accounts only, with their active key count (admin)", async () => {
    const { account } = await accountWithKey();
    const user = await createPrincipal(prisma, { role: "viewer" });
    const accounts = await listServiceAccounts({ actor: userActor("admin") });
    expect(accounts.find((a) => a.id === account.id)).toMatchObject({ name: account.name, role: "viewer", activeKeys: 1 });
    expect(accounts.map((a) => a.id)).not.toContain(user.id);
  });

  it.each(DENIED_ROLES)("refuses %s with FORBIDDEN", async (role) => {
    await expectAppError(listServiceAccounts({ actor: userActor(role) }), "FORBIDDEN");
  });
});

describe("setServiceAccountDisabled", () => {
  it("disables an account, keeps its keys, says so in the audit payload, in one commit (admin)", async () => {
    const { account, dto: key } = await accountWithKey();
    const actor = userActor("admin");

    const dto = await setServiceAccountDisabled({ actor, data: { principalId: account.id, disabled: true, reason: "  compromised host  " } });

    expect(dto).toMatchObject({ id: account.id, disabledAt: expect.any(Date), activeKeys: 1 });
    expect((await prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).revokedAt).toBeNull();
    const events = await auditEventsFor(prisma, account.id, "service_account.disabled");
    expect(events).toMatchObject([{ actorId: actor.id, reason: "compromised host", requestId: actor.request.requestId, payload: { activeKeys: 1, keysRevoked: false } }]);
    expect(await writerOf("audit_event", events[0]!.id)).toBe(await writerOf("principal", account.id));
  });

  it("re-enables a disabled account and records service_account.enabled", async () => {
    const account = await serviceAccountRow({ disabled: true });
    const actor = userActor("admin");
    const dto = await setServiceAccountDisabled({ actor, data: { principalId: account.id, disabled: false, reason: "host rebuilt" } });
    expect(dto.disabledAt).toBeNull();
    expect(await auditEventsFor(prisma, account.id, "service_account.enabled")).toMatchObject([{ reason: "host rebuilt", payload: { activeKeys: 0 } }]);
  });

  it("answers INVALID_STATE when the account is already in that state", async () => {
    const account = await serviceAccountRow({ disabled: true });
    const actor = userActor("admin");
    const error = await expectAppError(setServiceAccountDisabled({ actor, data: { principalId: account.id, disabled: true, reason: "again" } }), "INVALID_STATE");
    expect(error.status).toBe(409);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("answers NOT_FOUND for an unknown id and for a console user", async () => {
    const user = await createPrincipal(prisma, { role: "viewer" });
    const actor = userActor("admin");
    for (const principalId of [randomUUID(), user.id]) {
      const error = await expectAppError(setServiceAccountDisabled({ actor, data: { principalId, disabled: true, reason: "gone" } }), "NOT_FOUND");
      expect(error.status).toBe(404);
    }
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: user.id } })).disabledAt).toBeNull();
  });

  it.each(DENIED_ROLES)("refuses %s with FORBIDDEN and writes nothing", async (role) => {
    const account = await serviceAccountRow();
    const actor = userActor(role);
    await expectAppError(setServiceAccountDisabled({ actor, data: { principalId: account.id, disabled: true, reason: "not mine" } }), "FORBIDDEN");
    expect((await prisma.principal.findUniqueOrThrow({ where: { id: account.id } })).disabledAt).toBeNull();
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("refuses invalid input with INVALID_INPUT naming each field", async () => {
    const error = await expectAppError(setServiceAccountDisabled({ actor: userActor("admin"), data: { principalId: "nope", disabled: "yes", reason: "x" } }), "INVALID_INPUT");
    expect(issuePaths(error)).toEqual(["disabled", "principalId", "reason"]);
  });
});

// ---- API keys -----------------------------------------------------------------------------

describe("createApiKey", () => {
  it("issues a key once, stores only its prefix and keyed hash, and audits api_key.created in the same commit (admin)", async () => {
    const account = await serviceAccountRow();
    const actor = userActor("admin");
    const before = Date.now();

    const { key, dto } = await createApiKey({ actor, data: { principalId: account.id, name: " ci runner " } });

    expect(key).toMatch(API_KEY_PATTERN);
    expect(dto).toEqual({
      id: expect.any(String),
      name: "ci runner",
      prefix: key.slice(0, 12),
      principal: { id: account.id, name: account.name, disabled: false },
      createdAt: expect.any(Date),
      createdBy: { id: actor.id, name: actor.id },
      expiresAt: expect.any(Date),
      lastUsedAt: null,
      revokedAt: null,
      status: "active",
    });
    // Default expiry: 90 days.
    expect(dto.expiresAt!.getTime() - dto.createdAt.getTime()).toBe(90 * DAY_MS);
    expect(dto.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000);

    const row = await prisma.apiKey.findUniqueOrThrow({ where: { id: dto.id } });
    expect(row).toMatchObject({ principalId: account.id, prefix: key.slice(0, 12), hash: keyedHash("api-key", key), createdById: actor.id });
    const events = await auditEventsOfRequest(prisma, actor.request.requestId);
    expect(events).toMatchObject([
      {
        action: "api_key.created",
        actorId: actor.id,
        actorRole: "admin",
        targetType: "api_key",
        targetId: dto.id,
        outcome: "ok",
        payload: { prefix: key.slice(0, 12), principalId: account.id, expiresAt: dto.expiresAt!.toISOString() },
      },
    ]);
    expect(await writerOf("audit_event", events[0]!.id)).toBe(await writerOf("api_key", dto.id));
  });

  it("never stores the key or its secret part: not in the api_key row, not in any audit payload", async () => {
    const account = await serviceAccountRow();
    const actor = userActor("admin");
    const { key, dto } = await createApiKey({ actor, data: { principalId: account.id, name: "scan me" } });
    await revokeApiKey({ actor, data: { keyId: dto.id, reason: "scan done" } });
    const secretPart = key.split("_").slice(2).join("_");
    expect(secretPart).toHaveLength(43);

    const stored = [
      ...(await prisma.$queryRaw<unknown[]>`SELECT to_jsonb(k)::text AS row FROM api_key k WHERE id = ${dto.id}::uuid`),
      ...(await prisma.$queryRaw<unknown[]>`SELECT to_jsonb(e)::text AS row FROM audit_event e WHERE request_id = ${actor.request.requestId} OR target_id = ${dto.id} OR target_id = ${account.id}`),
    ];
    expect(stored.length).toBeGreaterThanOrEqual(3);
    const text = asText(stored);
    expect(text).not.toContain(key);
    expect(text).not.toContain(secretPart);
    expect(text).not.toContain(secretPart.slice(0, 16));
    // And a full table scan: no row anywhere in api_key or audit_event holds it.
    const [hits] = await prisma.$queryRaw<Array<{ n: bigint }>>`
      SELECT (SELECT count(*) FROM api_key k WHERE k::text LIKE ${`%${secretPart}%`})
           + (SELECT count(*) FROM audit_event e WHERE e::text LIKE ${`%${secretPart}%`}) AS n`;
    expect(hits!.n).toBe(0n);
  });

  it("honours the expiry choice: a number of days, or null for none", async () => {
    const account = await serviceAccountRow();
    const actor = userActor("admin");
    const oneDay = await createApiKey({ actor, data: { principalId: account.id, name: "short", expiresInDays: 1 } });
    expect(oneDay.dto.expiresAt!.getTime() - oneDay.dto.createdAt.getTime()).toBe(DAY_MS);
    const forever = await createApiKey({ actor, data: { principalId: account.id, name: "forever", expiresInDays: null } });
    expect(forever.dto.expiresAt).toBeNull();
    expect(await auditEventsFor(prisma, forever.dto.id, "api_key.created")).toMatchObject([{ payload: { expiresAt: null } }]);
  });

  it.each(DENIED_ROLES)("refuses %s with FORBIDDEN and writes nothing", async (role) => {
    const account = await serviceAccountRow();
    const actor = userActor(role);
    const error = await expectAppError(createApiKey({ actor, data: { principalId: account.id, name: "nope" } }), "FORBIDDEN");
    expect(error.status).toBe(403);
    expect(await prisma.apiKey.count({ where: { principalId: account.id } })).toBe(0);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("answers NOT_FOUND for an unknown principal and for a console user", async () => {
    const user = await createPrincipal(prisma, { role: "admin" });
    const actor = userActor("admin");
    for (const principalId of [randomUUID(), user.id]) {
      const error = await expectAppError(createApiKey({ actor, data: { principalId, name: "x" } }), "NOT_FOUND");
      expect(error.status).toBe(404);
    }
    expect(await prisma.apiKey.count({ where: { principalId: user.id } })).toBe(0);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("refuses a disabled service account with INVALID_STATE", async () => {
    const account = await serviceAccountRow({ disabled: true });
    const error = await expectAppError(createApiKey({ actor: userActor("admin"), data: { principalId: account.id, name: "x" } }), "INVALID_STATE");
    expect(error.status).toBe(409);
    expect(await prisma.apiKey.count({ where: { principalId: account.id } })).toBe(0);
  });

  it("refuses invalid input with INVALID_INPUT naming each field, and writes nothing", async () => {
    const account = await serviceAccountRow();
    const actor = userActor("admin");

    const all = await expectAppError(createApiKey({ actor, data: { principalId: "42", name: " ", expiresInDays: 0 } }), "INVALID_INPUT");
    expect(all.status).toBe(422);
    expect(issuePaths(all)).toEqual(["expiresInDays", "name", "principalId"]);
    for (const expiresInDays of [366, 1.5, "30", -1, true]) {
      const error = await expectAppError(createApiKey({ actor, data: { principalId: account.id, name: "k", expiresInDays } }), "INVALID_INPUT");
      expect(issuePaths(error)).toEqual(["expiresInDays"]);
    }
    expect(issuePaths(await expectAppError(createApiKey({ actor, data: { principalId: account.id, name: "n".repeat(101) } }), "INVALID_INPUT"))).toEqual(["name"]);
    expect(await prisma.apiKey.count({ where: { principalId: account.id } })).toBe(0);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });
});

describe("listApiKeys", () => {
  it("lists DTOs with their status and creator, never the hash, optionally for one principal (admin)", async () => {
    const creator = await realAdmin();
    const account = await serviceAccountRow();
    const other = await accountWithKey();
    const active = await createApiKey({ actor: creator, data: { principalId: account.id, name: "active" } });
    const expired = await createApiKey({ actor: creator, data: { principalId: account.id, name: "expired" } });
    await prisma.apiKey.update({ where: { id: expired.dto.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const revoked = await createApiKey({ actor: creator, data: { principalId: account.id, name: "revoked" } });
    await revokeApiKey({ actor: creator, data: { keyId: revoked.dto.id, reason: "rotated" } });

    const keys = await listApiKeys({ actor: userActor("admin"), principalId: account.id });

    expect(keys.map((k) => [k.name, k.status])).toEqual([
      ["revoked", "revoked"],
      ["expired", "expired"],
      ["active", "active"],
    ]);
    for (const k of keys) {
      expect(Object.keys(k).sort()).toEqual(["createdAt", "createdBy", "expiresAt", "id", "lastUsedAt", "name", "prefix", "principal", "revokedAt", "status"]);
      expect(k.createdBy).toEqual({ id: creator.id, name: creator.name });
    }
    expect(asText(keys)).not.toContain(keyedHash("api-key", active.key));
    const all = await listApiKeys({ actor: userActor("admin") });
    expect(all.map((k) => k.id)).toEqual(expect.arrayContaining([active.dto.id, other.dto.id]));
  });

  it("refuses a malformed principal id with INVALID_INPUT, and denied roles with FORBIDDEN", async () => {
    expect(issuePaths(await expectAppError(listApiKeys({ actor: userActor("admin"), principalId: "x" }), "INVALID_INPUT"))).toEqual(["principalId"]);
    for (const role of DENIED_ROLES) await expectAppError(listApiKeys({ actor: userActor(role) }), "FORBIDDEN");
  });
});

describe("revokeApiKey", () => {
  it("revokes the key and audits api_key.revoked with the reason in the same commit (admin)", async () => {
    const { account, dto: key } = await accountWithKey();
    const actor = userActor("admin");

    const dto = await revokeApiKey({ actor, data: { keyId: key.id, reason: "  leaked in a log  " } });

    expect(dto).toMatchObject({ id: key.id, status: "revoked", revokedAt: expect.any(Date) });
    expect(await prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).toMatchObject({ revokedAt: dto.revokedAt, revokedById: actor.id });
    const events = await auditEventsOfRequest(prisma, actor.request.requestId);
    expect(events).toMatchObject([
      { action: "api_key.revoked", targetType: "api_key", targetId: key.id, reason: "leaked in a log", payload: { prefix: key.prefix, principalId: account.id, revokedHandles: 0 } },
    ]);
    expect(await writerOf("audit_event", events[0]!.id)).toBe(await writerOf("api_key", key.id));
  });

  it("answers INVALID_STATE (409) when the key is already revoked, and writes nothing more", async () => {
    const { dto: key } = await accountWithKey();
    await revokeApiKey({ actor: userActor("admin"), data: { keyId: key.id, reason: "first" } });
    const before = await prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    const actor = userActor("admin");

    const error = await expectAppError(revokeApiKey({ actor, data: { keyId: key.id, reason: "second" } }), "INVALID_STATE");

    expect(error.status).toBe(409);
    expect(await prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).toEqual(before);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
    expect(await auditEventsFor(prisma, key.id, "api_key.revoked")).toHaveLength(1);
  });

  it("lets exactly one of two simultaneous revocations win", async () => {
    const { dto: key } = await accountWithKey();
    const results = await Promise.allSettled([1, 2].map((n) => revokeApiKey({ actor: userActor("admin"), data: { keyId: key.id, reason: `race ${n}` } })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(["INVALID_STATE"]);
    expect(await auditEventsFor(prisma, key.id, "api_key.revoked")).toHaveLength(1);
  });

  it("answers NOT_FOUND for an unknown key", async () => {
    const error = await expectAppError(revokeApiKey({ actor: userActor("admin"), data: { keyId: randomUUID(), reason: "who?" } }), "NOT_FOUND");
    expect(error.status).toBe(404);
  });

  it.each(DENIED_ROLES)("refuses %s with FORBIDDEN and writes nothing", async (role) => {
    const { dto: key } = await accountWithKey();
    const actor = userActor(role);
    await expectAppError(revokeApiKey({ actor, data: { keyId: key.id, reason: "not mine" } }), "FORBIDDEN");
    expect((await prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).revokedAt).toBeNull();
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("requires a reason of 3 to 500 characters and a key id (INVALID_INPUT)", async () => {
    const { dto: key } = await accountWithKey();
    const actor = userActor("admin");
    for (const reason of [undefined, "", "  ab  ", "x".repeat(501), 42]) {
      const error = await expectAppError(revokeApiKey({ actor, data: { keyId: key.id, reason } }), "INVALID_INPUT");
      expect(error.status).toBe(422);
      expect(issuePaths(error)).toEqual(["reason"]);
    }
    expect(issuePaths(await expectAppError(revokeApiKey({ actor, data: { keyId: "k", reason: "fine reason" } }), "INVALID_INPUT"))).toEqual(["keyId"]);
    expect((await prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).revokedAt).toBeNull();
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("revokes only the live handles minted with the key, each with handle.revoked, in the key's commit", async () => {
    const { account, dto: key } = await accountWithKey();
    const { dto: otherKey } = await createApiKey({ actor: userActor("admin"), data: { principalId: account.id, name: "other" } });
    const server = await createServer();
    const base = { principalId: account.id, serverId: server.id };
    const live = [await createHandle({ ...base, apiKeyId: key.id }), await createHandle({ ...base, apiKeyId: key.id })];
    const expiredAt = new Date(Date.now() - 1000);
    const expired = await createHandle({ ...base, apiKeyId: key.id, expiresAt: expiredAt });
    const earlier = new Date(Date.now() - 60_000);
    const alreadyRevoked = await createHandle({ ...base, apiKeyId: key.id, revokedAt: earlier });
    const otherKeys = await createHandle({ ...base, apiKeyId: otherKey.id });
    const noKey = await createHandle({ ...base, apiKeyId: null });
    const actor = await realAdmin();

    await revokeApiKey({ actor, data: { keyId: key.id, reason: "agent retired" } });

    for (const h of live) {
      expect(await prisma.handle.findUniqueOrThrow({ where: { id: h.id } })).toMatchObject({
        revokedAt: expect.any(Date),
        revokedById: actor.id,
        revokeReason: "agent retired",
        revokeTrigger: "api_key_revoked",
      });
    }
    for (const h of [expired, otherKeys, noKey]) {
      expect(await prisma.handle.findUniqueOrThrow({ where: { id: h.id } })).toEqual(h);
    }
    expect(await prisma.handle.findUniqueOrThrow({ where: { id: alreadyRevoked.id } })).toMatchObject({ revokedAt: earlier, revokeReason: "earlier", revokeTrigger: "manual" });

    const events = await auditEventsOfRequest(prisma, actor.request.requestId);
    expect(events.map((e) => e.action)).toEqual(["handle.revoked", "handle.revoked", "api_key.revoked"]);
    expect(events.slice(0, 2).map((e) => e.targetId).sort()).toEqual(live.map((h) => h.id).sort());
    for (const e of events.slice(0, 2)) {
      const handle = live.find((h) => h.id === e.targetId)!;
      expect(e).toMatchObject({ targetType: "handle", reason: "agent retired", actorId: actor.id, payload: { accessor: handle.accessor, trigger: "api_key_revoked", serverId: server.id } });
    }
    expect(events[2]!.payload).toMatchObject({ revokedHandles: 2 });
    const writer = await writerOf("api_key", key.id);
    for (const id of [...events.map((e) => e.id)]) expect(await writerOf("audit_event", id)).toBe(writer);
    for (const h of live) expect(await writerOf("handle", h.id)).toBe(writer);
  });

  it("fails closed: when a handle's audit insert fails, neither the key nor any handle is revoked", async () => {
    const { account, dto: key } = await accountWithKey();
    const server = await createServer();
    const handles = [
      await createHandle({ principalId: account.id, serverId: server.id, apiKeyId: key.id }),
      await createHandle({ principalId: account.id, serverId: server.id, apiKeyId: key.id }),
    ];
    const actor = await realAdmin();

    await withFailingAuditInserts(prisma, { targetId: handles[1]!.id }, async () => {
      await expect(revokeApiKey({ actor, data: { keyId: key.id, reason: "all or nothing" } })).rejects.toThrow(FORCED_AUDIT_FAILURE);
    });

    expect((await prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).revokedAt).toBeNull();
    for (const h of handles) expect(await prisma.handle.findUniqueOrThrow({ where: { id: h.id } })).toEqual(h);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });
});

describe("revokeLiveHandles for an API key", () => {
  it("records no revoker for Tether's own workers, and returns what it revoked", async () => {
    const { account, dto: key } = await accountWithKey();
    const server = await createServer();
    const handle = await createHandle({ principalId: account.id, serverId: server.id, apiKeyId: key.id });
    const actor = systemActor("api-key-test", `req-${randomUUID()}`);

    const revoked = await prisma.$transaction((tx) => revokeLiveHandles(tx, { scope: { trigger: "api_key_revoked", apiKeyId: key.id }, actor, reason: "sweep" }));

    expect(revoked).toEqual([{ id: handle.id, accessor: handle.accessor, serverId: server.id, sessionId: null }]);
    expect(await prisma.handle.findUniqueOrThrow({ where: { id: handle.id } })).toMatchObject({ revokedById: null, revokeTrigger: "api_key_revoked", revokeReason: "sweep" });
    expect(await auditEventsFor(prisma, handle.id, "handle.revoked")).toMatchObject([{ actorType: "system", actorId: "system" }]);
    // Nothing live is left: a second run revokes nothing and writes nothing.
    expect(await prisma.$transaction((tx) => revokeLiveHandles(tx, { scope: { trigger: "api_key_revoked", apiKeyId: key.id }, actor, reason: "again" }))).toEqual([]);
    expect(await auditEventsFor(prisma, handle.id, "handle.revoked")).toHaveLength(1);
  });
});

// ---- authentication -----------------------------------------------------------------------

describe("authenticateApiKey", () => {
  it("accepts a valid key: the service actor with its role and key id", async () => {
    const { account, key, dto } = await accountWithKey({ role: "reviewer" });
    const request = newRequest({ ip: "203.0.113.7" });

    const actor = await authenticateApiKey(key, request);

    expect(actor).toEqual({ type: "service", id: account.id, role: "reviewer", name: account.name, apiKeyId: dto.id, request });
  });

  it("refuses a revoked key, an expired key, and a key of a disabled account (which works again once enabled)", async () => {
    const revoked = await accountWithKey();
    await revokeApiKey({ actor: userActor("admin"), data: { keyId: revoked.dto.id, reason: "revoked" } });
    expect(await authenticateApiKey(revoked.key)).toBeNull();

    const expired = await accountWithKey({ expiresInDays: 1 });
    expect(await authenticateApiKey(expired.key)).not.toBeNull();
    await prisma.apiKey.update({ where: { id: expired.dto.id }, data: { expiresAt: new Date(Date.now() - 1) } });
    expect(await authenticateApiKey(expired.key)).toBeNull();

    const disabled = await accountWithKey();
    await setServiceAccountDisabled({ actor: userActor("admin"), data: { principalId: disabled.account.id, disabled: true, reason: "paused" } });
    expect(await authenticateApiKey(disabled.key)).toBeNull();
    await setServiceAccountDisabled({ actor: userActor("admin"), data: { principalId: disabled.account.id, disabled: false, reason: "resumed" } });
    expect(await authenticateApiKey(disabled.key)).not.toBeNull();
  });

  it("refuses garbage, near misses and wrong prefixes", async () => {
    const { key } = await accountWithKey();
    const { key: otherKey } = await accountWithKey();
    const secret = key.slice(13);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
    const candidates = [
      "",
      "tth_",
      "garbage",
      key.slice(0, 12), // the public prefix alone
      `${key}x`,
      key.slice(0, -1),
      ` ${key}`,
      key.toUpperCase(),
      flip(key, key.length - 1), // one character of the secret changed
      `${otherKey.slice(0, 12)}_${secret}`, // another key's prefix with this key's secret
      `xyz_${key.slice(4)}`, // wrong scheme
      `tth_00000000_${secret}`,
      "x".repeat(10_000),
    ];
    for (const candidate of candidates) expect(await authenticateApiKey(candidate), candidate.slice(0, 40)).toBeNull();
    expect(await authenticateApiKey(undefined as unknown as string)).toBeNull();
    expect(await authenticateApiKey(key)).not.toBeNull();
  });

  it("refuses a key whose principal is not a service account, and a row whose prefix does not match the key", async () => {
    const user = await createPrincipal(prisma, { role: "admin" });
    const userKey = `tth_${randomUUID().slice(0, 8)}_${"A".repeat(43)}`;
    await prisma.apiKey.create({ data: { principalId: user.id, name: "misplaced", prefix: userKey.slice(0, 12), hash: keyedHash("api-key", userKey) } });
    expect(await authenticateApiKey(userKey)).toBeNull();

    const account = await serviceAccountRow();
    const mismatched = `tth_${randomUUID().slice(0, 8)}_${"B".repeat(43)}`;
    await prisma.apiKey.create({ data: { principalId: account.id, name: "odd", prefix: `tth_${randomUUID().slice(0, 8)}`, hash: keyedHash("api-key", mismatched) } });
    expect(await authenticateApiKey(mismatched)).toBeNull();
  });

  it("updates lastUsedAt at most once a minute", async () => {
    // What Postgres holds, read afresh by each call: the gateway cache off. With it on, the
    // rewrites below reach the cache by notification, which the next call could race.
    process.env.TETHER_GATEWAY_CACHE = "false";
    resetEnvCache();
    stopGatewayCache();
    onTestFinished(() => {
      delete process.env.TETHER_GATEWAY_CACHE;
      resetEnvCache();
      stopGatewayCache();
    });
    const { key, dto } = await accountWithKey();
    const lastUsed = async () => (await prisma.apiKey.findUniqueOrThrow({ where: { id: dto.id } })).lastUsedAt;

    await authenticateApiKey(key);
    const first = await lastUsed();
    expect(first).toBeInstanceOf(Date);
    await authenticateApiKey(key);
    await authenticateApiKey(key);
    expect(await lastUsed()).toEqual(first);

    const thirtySecondsAgo = new Date(Date.now() - 30_000);
    await prisma.apiKey.update({ where: { id: dto.id }, data: { lastUsedAt: thirtySecondsAgo } });
    await authenticateApiKey(key);
    expect(await lastUsed()).toEqual(thirtySecondsAgo);

    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await prisma.apiKey.update({ where: { id: dto.id }, data: { lastUsedAt: twoMinutesAgo } });
    await authenticateApiKey(key);
    expect((await lastUsed())!.getTime()).toBeGreaterThan(Date.now() - 10_000);

    // A refused key is never marked as used.
    await revokeApiKey({ actor: userActor("admin"), data: { keyId: dto.id, reason: "stop" } });
    await prisma.apiKey.update({ where: { id: dto.id }, data: { lastUsedAt: twoMinutesAgo } });
    await authenticateApiKey(key);
    expect(await lastUsed()).toEqual(twoMinutesAgo);
  });

  it("with the gateway cache on, still writes lastUsedAt once, not with every call", async () => {
    const { key, dto } = await accountWithKey();
    const cache = gatewayCache();
    expect(cache).not.toBeNull();
    for (let waited = 0; cache!.readEpoch() === null && waited < 5_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    const updates = vi.spyOn(getPool(), "query");
    const lastUsedWrites = () => updates.mock.calls.filter(([sql]) => typeof sql === "string" && sql.startsWith("UPDATE api_key SET last_used_at")).length;
    try {
      await authenticateApiKey(key);
      expect(lastUsedWrites()).toBe(1);
      for (let i = 0; i < 5; i++) expect(await authenticateApiKey(key)).not.toBeNull();
      expect(lastUsedWrites()).toBe(1);
    } finally {
      updates.mockRestore();
    }
    expect((await prisma.apiKey.findUniqueOrThrow({ where: { id: dto.id } })).lastUsedAt).toBeInstanceOf(Date);
  });
});

// ---- REST adapter with an API key ---------------------------------------------------------

describe("REST with Authorization: Bearer <API key>", () => {
  const BASE = "http://tether.test";
  const noParams = { params: Promise.resolve({}) } as { params: Promise<Record<string, never>> };

  function request(path: string, init: { method?: string; key?: string; body?: string; contentType?: string } = {}) {
    const headers = new Headers();
    if (init.key !== undefined) headers.set("authorization", `Bearer ${init.key}`);
    if (init.body !== undefined) headers.set("content-type", init.contentType ?? "application/json");
    return new NextRequest(`${BASE}${path}`, { method: init.method ?? "GET", headers, ...(init.body === undefined ? {} : { body: init.body }) });
  }

  it("lets an admin agent list, create and revoke keys; the key is in the creation response only", async () => {
    const { account: adminAgent, key: adminKey } = await accountWithKey({ role: "admin" });
    const target = await serviceAccountRow();

    const created = await postApiKeysRoute(request("/api/v1/api-keys", { method: "POST", key: adminKey, body: JSON.stringify({ principalId: target.id, name: "via api", expiresInDays: 30 }) }), noParams);
    expect(created.status).toBe(201);
    expect(created.headers.get("cache-control")).toBe("no-store");
    const body = (await created.json()) as { key: string; apiKey: { id: string; prefix: string; status: string; createdBy: { id: string } } };
    expect(body.key).toMatch(API_KEY_PATTERN);
    expect(body.apiKey).toMatchObject({ prefix: body.key.slice(0, 12), status: "active" });
    expect(body.apiKey).not.toHaveProperty("hash");

    const listed = await getApiKeysRoute(request(`/api/v1/api-keys?principalId=${target.id}`, { key: adminKey }), noParams);
    expect(listed.status).toBe(200);
    const listText = await listed.text();
    expect(listText).toContain(body.apiKey.prefix);
    expect(listText).not.toContain(body.key.slice(13));

    const revokeParams = { params: Promise.resolve({ id: body.apiKey.id }) };
    const revoked = await postRevokeRoute(request(`/api/v1/api-keys/${body.apiKey.id}/revoke`, { method: "POST", key: adminKey, body: JSON.stringify({ reason: "done with it" }) }), revokeParams);
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({ id: body.apiKey.id, status: "revoked" });
    expect(await prisma.apiKey.findUniqueOrThrow({ where: { id: body.apiKey.id } })).toMatchObject({ createdById: adminAgent.id, revokedById: adminAgent.id });
    const again = await postRevokeRoute(request(`/api/v1/api-keys/${body.apiKey.id}/revoke`, { method: "POST", key: adminKey, body: JSON.stringify({ reason: "again" }) }), revokeParams);
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({ error: { code: "INVALID_STATE", message: "This API key is already revoked." } });

    // The audit trail names the agent and its key as the actor.
    const events = await auditEventsFor(prisma, body.apiKey.id);
    expect(events.map((e) => [e.action, e.actorType])).toEqual([
      ["api_key.created", "service"],
      ["api_key.revoked", "service"],
    ]);
  });

  it("creates service accounts over REST and reports bad bodies as 4xx with field issues", async () => {
    const { key: adminKey } = await accountWithKey({ role: "admin" });
    const name = `rest-${randomUUID()}`;
    const created = await postServiceAccountsRoute(request("/api/v1/service-accounts", { method: "POST", key: adminKey, body: JSON.stringify({ name }) }), noParams);
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name, role: "viewer", activeKeys: 0 });
    const listed = await getServiceAccountsRoute(request("/api/v1/service-accounts", { key: adminKey }), noParams);
    expect(((await listed.json()) as { data: Array<{ name: string }> }).data.map((a) => a.name)).toContain(name);

    const invalid = await postApiKeysRoute(request("/api/v1/api-keys", { method: "POST", key: adminKey, body: JSON.stringify({ principalId: "x", expiresInDays: 999 }) }), noParams);
    expect(invalid.status).toBe(422);
    const invalidBody = (await invalid.json()) as { error: { code: string; issues: Array<{ path: string }> } };
    expect(invalidBody.error.code).toBe("INVALID_INPUT");
    expect(invalidBody.error.issues.map((i) => i.path).sort()).toEqual(["expiresInDays", "name", "principalId"]);

    const malformed = await postApiKeysRoute(request("/api/v1/api-keys", { method: "POST", key: adminKey, body: "{not json" }), noParams);
    expect(malformed.status).toBe(422);
    const wrongType = await postApiKeysRoute(request("/api/v1/api-keys", { method: "POST", key: adminKey, body: "name=x", contentType: "application/x-www-form-urlencoded" }), noParams);
    expect(wrongType.status).toBe(415);
    const unknown = await postRevokeRoute(
      request(`/api/v1/api-keys/${randomUUID()}/revoke`, { method: "POST", key: adminKey, body: JSON.stringify({ reason: "no such key" }) }),
      { params: Promise.resolve({ id: randomUUID() }) },
    );
    expect(unknown.status).toBe(404);
  });

  it("answers 403 to an agent whose role lacks keys.manage, and 401 to a bad, revoked or expired key", async () => {
    const { account: viewer, key: viewerKey } = await accountWithKey({ role: "viewer" });
    const forbidden = await postApiKeysRoute(request("/api/v1/api-keys", { method: "POST", key: viewerKey, body: JSON.stringify({ principalId: viewer.id, name: "self-service" }) }), noParams);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
    expect(await prisma.apiKey.count({ where: { principalId: viewer.id } })).toBe(1);

    const revoked = await accountWithKey({ role: "admin" });
    await revokeApiKey({ actor: userActor("admin"), data: { keyId: revoked.dto.id, reason: "revoked" } });
    for (const key of ["tth_garbage", revoked.key, `${viewerKey.slice(0, -1)}${viewerKey.endsWith("A") ? "B" : "A"}`]) {
      const res = await getApiKeysRoute(request("/api/v1/api-keys", { key }), noParams);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: "UNAUTHENTICATED", message: "Invalid or expired API key." } });
    }
  });
});
