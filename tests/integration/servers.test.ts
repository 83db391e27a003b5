// The server registry against the real database and real upstreams (Tether's demo server, the
// official server-everything, tiny fixtures that fail in one exact way each): what registering
// records, each failure class, force, every use case for an allowed role, a denied role, an
// unknown or removed id and a wrong state, audit events in the same commit, removal with the
// handles choice, and the REST adapter.
import { randomUUID } from "node:crypto";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as listRoute, POST as registerRoute } from "@/app/api/v1/servers/route";
import { DELETE as deleteRoute, GET as getRoute, PATCH as patchRoute } from "@/app/api/v1/servers/[id]/route";
import { POST as disableRoute } from "@/app/api/v1/servers/[id]/disable/route";
import { POST as enableRoute } from "@/app/api/v1/servers/[id]/enable/route";
import { POST as probeRoute } from "@/app/api/v1/servers/probe/route";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import type { TActor } from "@/lib/auth/actor";
import type { TRole } from "@/lib/auth/permissions";
import { decryptSecret } from "@/lib/crypto/secrets";
import { getPrisma } from "@/lib/db/client";
import { serverCredentialsContext } from "@/lib/gateway/upstream";
import { getServer } from "@/lib/servers/get-server";
import { listServers } from "@/lib/servers/list-servers";
import { probeServer } from "@/lib/servers/probe-server";
import { registerServer } from "@/lib/servers/register-server";
import { removeServer } from "@/lib/servers/remove-server";
import type { TProbeProblem, TRegisterServerInput } from "@/lib/servers/schemas";
import { setServerEnabled } from "@/lib/servers/set-server-enabled";
import { updateServer } from "@/lib/servers/update-server";
import { actorFor, createPrincipal, userActor } from "../factories/principals";
import { auditEventsFor, auditEventsOfRequest } from "./support/audit";
import { setUpEnv, setUpTestSecrets } from "./support/env";
import { expectAppError, issuePaths } from "./support/errors";
import { startDemoServer, startEverythingServer, type TEverythingServer } from "./support/gateway";
import { FORCED_AUDIT_FAILURE, withFailingAuditInserts } from "./support/triggers";
import {
  startMcpFixture,
  startPlainHttpServer,
  startSilentServer,
  startUnauthorizedServer,
  unusedPort,
  type TFixture,
  type TMcpFixture,
} from "./support/upstream-fixtures";
import { insertHandle } from "../factories/handles";

setUpTestSecrets();
setUpEnv(() => ({ TETHER_PUBLIC_URL: "https://tether.example", TETHER_SERVER_PROBE_TIMEOUT_MS: "2000", TETHER_SERVER_HEALTH_INTERVAL_SECONDS: "30" }));

const prisma = getPrisma();
const DENIED_ROLES = ["reviewer", "support", "auditor", "viewer"] as const satisfies readonly TRole[];

let demo: Awaited<ReturnType<typeof startDemoServer>>;
let everything: TEverythingServer;
let taskFixture: TMcpFixture;
let plainMcp: TMcpFixture;
let web: TFixture;
let unauthorized: TFixture;
let silent: TFixture;

beforeAll(async () => {
  [demo, everything, taskFixture, plainMcp, web, unauthorized, silent] = await Promise.all([
    startDemoServer(),
    startEverythingServer(),
    startMcpFixture({ tasks: true }),
    startMcpFixture({ tasks: false }),
    startPlainHttpServer(),
    startUnauthorizedServer(),
    startSilentServer(),
  ]);
});

afterAll(async () => {
  await Promise.all([demo, everything, taskFixture, plainMcp, web, unauthorized, silent].map((f) => f?.close()));
  await prisma.$disconnect();
});

// ---- helpers ------------------------------------------------------------------------------

const slug = (label = "s") => `${label}-${randomUUID().slice(0, 8)}`;

async function writerOf(table: "mcp_server" | "audit_event" | "handle", id: string): Promise<string> {
  const rows = await prisma.$queryRawUnsafe<Array<{ xmin: string }>>(`SELECT xmin::text AS xmin FROM ${table} WHERE id = $1::uuid`, id);
  if (rows.length !== 1) throw new Error(`no ${table} row ${id}`);
  return rows[0]!.xmin;
}

function asText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** A server registered through the use case against the task-capable fixture (fast, no credentials). */
async function registered(overrides: Partial<TRegisterServerInput> = {}, actor: TActor = userActor("admin")) {
  const { server } = await registerServer({ actor, data: { name: "Fixture", slug: slug(), url: taskFixture.url, ...overrides } });
  return server;
}

async function createHandle(serverId: string, overrides: { expiresAt?: Date; revokedAt?: Date | null } = {}) {
  const owner = await createPrincipal(prisma, { kind: "service", email: null });
  return insertHandle(prisma, { serverId, principalId: owner.id, ...overrides });
}

// ---- registerServer -------------------------------------------------------------------------

describe("registerServer", () => {
  it("registers the demo server: handshake, capabilities, tools with taskSupport, the 2025-11-25 wire, encrypted token, first health check, audit in the same commit", async () => {
    const actor = userActor("admin");
    const s = slug("demo");

    const { server, check } = await registerServer({
      actor,
      data: { name: " Demo ", slug: s, url: demo.url, bearerToken: demo.bearerToken, tags: ["demo", "demo", "local"] },
    });

    expect(check).toMatchObject({ ok: true, problem: null });
    expect(server).toMatchObject({
      slug: s,
      name: "Demo",
      url: demo.url,
      audience: `https://tether.example/mcp/${s}`,
      gatewayPath: `/mcp/${s}`,
      enabled: true,
      tags: ["demo", "local"],
      credentials: "bearer",
      serverInfo: { name: "tether-demo-upstream" },
      protocolVersion: "2025-11-25",
      capabilities: { tools: true, tasks: { list: true, cancel: true, toolsCall: true }, extensions: [] },
      taskWires: ["core_2025_11_25"],
      health: { status: "up", consecutiveFailures: 0, lastError: null },
      liveHandles: { total: 0, byStatus: {} },
    });
    const support = Object.fromEntries(server.tools!.map((t) => [t.name, t.taskSupport]));
    expect(support).toMatchObject({ input_task: "required", long_task: "optional", echo: "forbidden" });
    expect(server.health.recent).toHaveLength(1);
    expect(server.health.recent[0]).toMatchObject({ ok: true, status: "up" });

    // The token is stored encrypted under the slug's context and appears in no DTO.
    const row = await prisma.mcpServer.findUniqueOrThrow({ where: { id: server.id } });
    expect(row.credentialsEnc).not.toContain(demo.bearerToken);
    expect(JSON.parse(decryptSecret(row.credentialsEnc!, serverCredentialsContext(s)))).toEqual({ type: "bearer", token: demo.bearerToken });
    expect(asText(server)).not.toContain(demo.bearerToken);
    expect(asText(server)).not.toContain(row.credentialsEnc!);
    expect(row.nextHealthCheckAt!.getTime()).toBeGreaterThan(Date.now() + 20_000);

    const events = await auditEventsFor(prisma, server.id);
    expect(events.map((e) => [e.action, e.actorType])).toEqual([
      ["server.registered", "user"],
      ["server.health_changed", "system"],
    ]);
    expect(events[0]).toMatchObject({
      actorId: actor.id,
      requestId: actor.request.requestId,
      targetType: "mcp_server",
      payload: { slug: s, url: demo.url, audience: server.audience, enabled: true, taskWires: ["core_2025_11_25"], problem: null },
    });
    expect(events[1]!.payload).toMatchObject({ from: "unknown", to: "up", error: null });
    expect(asText(events)).not.toContain(demo.bearerToken);
    expect(await writerOf("audit_event", events[0]!.id)).toBe(await writerOf("mcp_server", server.id));
  });

  it("registers server-everything: its task tool is required, the others forbidden, tasks list and cancel declared", async () => {
    const { server } = await registerServer({ actor: userActor("admin"), data: { name: "Everything", slug: slug("everything"), url: everything.url } });
    expect(server).toMatchObject({
      enabled: true,
      credentials: "none",
      serverInfo: { name: "mcp-servers/everything" },
      protocolVersion: "2025-11-25",
      capabilities: { tools: true, resources: true, prompts: true, tasks: { list: true, cancel: true, toolsCall: true } },
      taskWires: ["core_2025_11_25"],
      // Reachable and answering: "degraded" only says the check was slow, as it can be on a busy CI machine.
      health: { status: expect.stringMatching(/^(up|degraded)$/) },
    });
    const tools = new Map(server.tools!.map((t) => [t.name, t.taskSupport]));
    expect(tools.get("simulate-research-query")).toBe("required");
    expect(tools.get("echo")).toBe("forbidden");
    expect([...tools.values()].filter((t) => t !== "forbidden")).toEqual(["required"]);
  });

  const failures: Array<[TProbeProblem, () => Promise<{ url: string; bearerToken?: string }>, string]> = [
    ["unreachable", async () => ({ url: `http://127.0.0.1:${await unusedPort()}/mcp` }), "url"],
    ["tls_error", async () => ({ url: web.url.replace("http://", "https://") }), "url"],
    ["not_mcp", async () => ({ url: web.url }), "url"],
    ["credentials_refused", async () => ({ url: unauthorized.url, bearerToken: "wrong-token" }), "bearerToken"],
    ["credentials_refused", async () => ({ url: demo.url, bearerToken: "not-the-demo-token" }), "bearerToken"],
    ["timeout", async () => ({ url: silent.url }), "url"],
    ["no_task_support", async () => ({ url: plainMcp.url }), "url"],
  ];

  it.each(failures)("says exactly what failed (%s) and saves nothing without force", async (kind, target, field) => {
    const actor = userActor("admin");
    const s = slug(kind.replace(/_/g, "-"));
    const error = await expectAppError(registerServer({ actor, data: { name: kind, slug: s, ...(await target()) } }), "INVALID_INPUT");
    expect(error.status).toBe(422);
    expect((error.details?.probe as { problem: { kind: string } }).problem.kind).toBe(kind);
    expect(issuePaths(error)).toEqual(["probe", field].sort());
    const label = { unreachable: "Unreachable", tls_error: "TLS error", not_mcp: "Not an MCP server", credentials_refused: "Credentials refused", timeout: "Timed out", no_task_support: "No task support" }[kind as string];
    expect(error.message.startsWith(`${label}: `)).toBe(true);
    expect(error.message).not.toContain("wrong-token");
    expect(await prisma.mcpServer.count({ where: { slug: s } })).toBe(0);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("saves a failing server with force, disabled, with the reason recorded and no health check", async () => {
    const actor = userActor("admin");
    const s = slug("forced");
    const { server, check } = await registerServer({ actor, data: { name: "Down", slug: s, url: `http://127.0.0.1:${await unusedPort()}/mcp`, force: true } });
    expect(check.problem?.kind).toBe("unreachable");
    expect(server).toMatchObject({ enabled: false, capabilities: null, tools: null, taskWires: [], health: { status: "unknown", lastErrorKind: "unreachable", recent: [] } });
    const row = await prisma.mcpServer.findUniqueOrThrow({ where: { id: server.id } });
    expect(row.nextHealthCheckAt).toBeNull();
    const events = await auditEventsFor(prisma, server.id);
    expect(events).toMatchObject([{ action: "server.registered", payload: { enabled: false, problem: "unreachable" } }]);
  });

  it("force on a server without task support records what it declares, disabled", async () => {
    const { server } = await registerServer({ actor: userActor("admin"), data: { name: "Plain", slug: slug("plain"), url: plainMcp.url, force: true } });
    expect(server).toMatchObject({
      enabled: false,
      serverInfo: { name: "fixture-plain", version: "1.2.3" },
      capabilities: { tools: true, tasks: null },
      taskWires: [],
      tools: [{ name: "hello", taskSupport: "forbidden" }],
      health: { lastErrorKind: "no_task_support" },
    });
  });

  it.each(DENIED_ROLES)("refuses %s with FORBIDDEN before connecting anywhere", async (role) => {
    const actor = userActor(role);
    const before = taskFixture.initializeCount();
    const s = slug("denied");
    const error = await expectAppError(registerServer({ actor, data: { name: "x", slug: s, url: taskFixture.url } }), "FORBIDDEN");
    expect(error.status).toBe(403);
    expect(taskFixture.initializeCount()).toBe(before);
    expect(await prisma.mcpServer.count({ where: { slug: s } })).toBe(0);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("validates every field: slug form, URL scheme, credentials in the URL, poll order, tags", async () => {
    const error = await expectAppError(
      registerServer({
        actor: userActor("admin"),
        data: { name: "", slug: "Bad_Slug", url: "ftp://x", pollMinMs: 5000, pollMaxMs: 10, tags: ["ok", "not ok"] },
      }),
      "INVALID_INPUT",
    );
    expect(issuePaths(error)).toEqual(expect.arrayContaining(["name", "slug", "url", "tags.1"]));
    const order = await expectAppError(registerServer({ actor: userActor("admin"), data: { name: "x", slug: slug(), url: taskFixture.url, pollMinMs: 5000, pollMaxMs: 1000 } }), "INVALID_INPUT");
    expect(issuePaths(order)).toEqual(["pollMinMs"]);
    const creds = await expectAppError(registerServer({ actor: userActor("admin"), data: { name: "x", slug: slug(), url: "http://user:secret@127.0.0.1/mcp" } }), "INVALID_INPUT");
    expect(issuePaths(creds)).toEqual(["url"]);
    expect(creds.issues![0]!.message).toMatch(/not in the URL/);
  });

  it("refuses a slug that is taken, also by a removed server, with CONFLICT on the slug", async () => {
    const server = await registered();
    const taken = await expectAppError(registerServer({ actor: userActor("admin"), data: { name: "again", slug: server.slug, url: taskFixture.url } }), "CONFLICT");
    expect(issuePaths(taken)).toEqual(["slug"]);
    await removeServer({ actor: userActor("admin"), data: { serverId: server.id, reason: "test removal" } });
    await expectAppError(registerServer({ actor: userActor("admin"), data: { name: "again", slug: server.slug, url: taskFixture.url } }), "CONFLICT");
  });

  it("rolls the registration back when its audit event cannot be written", async () => {
    const s = slug("rollback");
    await withFailingAuditInserts(prisma, { action: "server.registered" }, async () => {
      await expect(registerServer({ actor: userActor("admin"), data: { name: "x", slug: s, url: taskFixture.url } })).rejects.toThrow(FORCED_AUDIT_FAILURE);
    });
    expect(await prisma.mcpServer.count({ where: { slug: s } })).toBe(0);
  });
});

// ---- updateServer ---------------------------------------------------------------------------

describe("updateServer", () => {
  it("changes settings without reconnecting and audits the field names only", async () => {
    const server = await registered({ tags: ["a"] });
    const actor = userActor("admin");
    const before = taskFixture.initializeCount();
    const { server: updated, check } = await updateServer({
      actor,
      data: { serverId: server.id, slug: server.slug, name: "Renamed", pollMaxMs: 60_000, tags: ["a", "b"], pollMinMs: server.pollMinMs },
    });
    expect(check).toBeNull();
    expect(taskFixture.initializeCount()).toBe(before);
    expect(updated).toMatchObject({ name: "Renamed", pollMaxMs: 60_000, tags: ["a", "b"] });
    const [event] = await auditEventsOfRequest(prisma, actor.request.requestId);
    expect(event).toMatchObject({ action: "server.updated", targetId: server.id, payload: { slug: server.slug, changes: ["name", "pollMaxMs", "tags"], problem: null } });
    expect(await writerOf("audit_event", event!.id)).toBe(await writerOf("mcp_server", server.id));
  });

  it("writes nothing when nothing changed", async () => {
    const server = await registered();
    const actor = userActor("admin");
    await updateServer({ actor, data: { serverId: server.id, name: server.name } });
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("replaces the token after checking it, names only 'credentials' in the audit, and can remove it", async () => {
    const { server } = await registerServer({ actor: userActor("admin"), data: { name: "Demo", slug: slug("demo"), url: demo.url, bearerToken: demo.bearerToken } });
    const oldEnc = (await prisma.mcpServer.findUniqueOrThrow({ where: { id: server.id } })).credentialsEnc;

    // A wrong token is refused by the upstream: nothing changes.
    const wrong = await expectAppError(updateServer({ actor: userActor("admin"), data: { serverId: server.id, bearerToken: "wrong-token-123" } }), "INVALID_INPUT");
    expect(issuePaths(wrong)).toEqual(["bearerToken", "probe"]);
    expect((await prisma.mcpServer.findUniqueOrThrow({ where: { id: server.id } })).credentialsEnc).toBe(oldEnc);

    const actor = userActor("admin");
    const { check } = await updateServer({ actor, data: { serverId: server.id, bearerToken: demo.bearerToken } });
    expect(check?.ok).toBe(true);
    const row = await prisma.mcpServer.findUniqueOrThrow({ where: { id: server.id } });
    expect(row.credentialsEnc).not.toBe(oldEnc);
    const [event] = (await auditEventsOfRequest(prisma, actor.request.requestId)).filter((e) => e.action === "server.updated");
    expect(event!.payload).toEqual({ slug: server.slug, changes: ["credentials"], problem: null });
    expect(asText(await auditEventsFor(prisma, server.id))).not.toContain(demo.bearerToken);

    // Removing it: the demo server then refuses the connection, so only force saves, disabled.
    const refused = await expectAppError(updateServer({ actor: userActor("admin"), data: { serverId: server.id, clearCredentials: true } }), "INVALID_INPUT");
    expect(refused.message).toMatch(/^Credentials refused: /);
    const forcer = userActor("admin");
    const { server: cleared } = await updateServer({ actor: forcer, data: { serverId: server.id, clearCredentials: true, force: true } });
    expect(cleared).toMatchObject({ credentials: "none", enabled: false, health: { lastErrorKind: "credentials_refused" } });
    const forced = await auditEventsOfRequest(prisma, forcer.request.requestId);
    expect(forced.map((e) => e.action)).toEqual(["server.updated", "server.disabled"]);
    expect(forced[0]!.payload).toEqual({ slug: server.slug, changes: ["credentials", "enabled"], problem: "credentials_refused" });
    expect(forced[1]).toMatchObject({ reason: "saved with a failing connection check (credentials_refused)", payload: { liveHandles: 0 } });
  });

  it("never changes the slug", async () => {
    const server = await registered();
    const error = await expectAppError(updateServer({ actor: userActor("admin"), data: { serverId: server.id, slug: "another-slug" } }), "INVALID_INPUT");
    expect(issuePaths(error)).toEqual(["slug"]);
  });

  it("asks for the token again before sending a stored one to another host", async () => {
    const { server } = await registerServer({ actor: userActor("admin"), data: { name: "Demo", slug: slug("demo"), url: demo.url, bearerToken: demo.bearerToken } });
    const error = await expectAppError(updateServer({ actor: userActor("admin"), data: { serverId: server.id, url: everything.url.replace("127.0.0.1", "localhost") } }), "INVALID_INPUT");
    expect(issuePaths(error)).toEqual(["bearerToken"]);
    const dry = await expectAppError(probeServer({ actor: userActor("admin"), data: { serverId: server.id, url: web.url } }), "INVALID_INPUT");
    expect(issuePaths(dry)).toEqual(["bearerToken"]);
  });

  it("re-checks a new URL and records what the new server declares", async () => {
    const server = await registered();
    const actor = userActor("admin");
    const { server: moved } = await updateServer({ actor, data: { serverId: server.id, url: everything.url } });
    expect(moved).toMatchObject({ url: everything.url, serverInfo: { name: "mcp-servers/everything" } });
    const [event] = (await auditEventsOfRequest(prisma, actor.request.requestId)).filter((e) => e.action === "server.updated");
    expect((event!.payload as { changes: string[] }).changes).toEqual(expect.arrayContaining(["url", "serverInfo", "capabilities", "tools"]));
  });

  it("keeps a disabled server disabled when its new URL works, and clears the old problem", async () => {
    const { server } = await registerServer({ actor: userActor("admin"), data: { name: "Later", slug: slug("later"), url: `http://127.0.0.1:${await unusedPort()}/mcp`, force: true } });
    expect(server.health.lastErrorKind).toBe("unreachable");
    const { server: fixed, check } = await updateServer({ actor: userActor("admin"), data: { serverId: server.id, url: taskFixture.url } });
    expect(check?.ok).toBe(true);
    expect(fixed).toMatchObject({ enabled: false, taskWires: ["core_2025_11_25"], health: { lastError: null, lastErrorKind: null, recent: [] } });
  });

  it("refuses a poll minimum above the stored maximum", async () => {
    const server = await registered({ pollMaxMs: 2000 });
    const error = await expectAppError(updateServer({ actor: userActor("admin"), data: { serverId: server.id, pollMinMs: 5000 } }), "INVALID_INPUT");
    expect(issuePaths(error)).toEqual(["pollMinMs"]);
  });

  it("answers FORBIDDEN to a reviewer and NOT_FOUND for an unknown, malformed or removed id", async () => {
    const server = await registered();
    await expectAppError(updateServer({ actor: userActor("reviewer"), data: { serverId: server.id, name: "x" } }), "FORBIDDEN");
    await expectAppError(updateServer({ actor: userActor("admin"), data: { serverId: randomUUID(), name: "x" } }), "NOT_FOUND");
    await expectAppError(updateServer({ actor: userActor("admin"), data: { serverId: "not-an-id", name: "x" } }), "NOT_FOUND");
    await removeServer({ actor: userActor("admin"), data: { serverId: server.id, reason: "gone" } });
    await expectAppError(updateServer({ actor: userActor("admin"), data: { serverId: server.id, name: "x" } }), "NOT_FOUND");
  });
});

// ---- setServerEnabled -----------------------------------------------------------------------

describe("setServerEnabled", () => {
  it("disables with a reason and enables again after a fresh check; each audited in its commit; a repeat is 409", async () => {
    const server = await registered();
    await createHandle(server.id);
    const disabler = userActor("admin");
    const disabled = await setServerEnabled({ actor: disabler, data: { serverId: server.id, enabled: false, reason: "maintenance window" } });
    expect(disabled.enabled).toBe(false);
    const [off] = await auditEventsOfRequest(prisma, disabler.request.requestId);
    expect(off).toMatchObject({ action: "server.disabled", reason: "maintenance window", payload: { slug: server.slug, liveHandles: 1 } });
    expect(await writerOf("audit_event", off!.id)).toBe(await writerOf("mcp_server", server.id));
    expect((await prisma.mcpServer.findUniqueOrThrow({ where: { id: server.id } })).nextHealthCheckAt).toBeNull();
    // Live handles are refused at the gateway while disabled, not revoked.
    expect(await prisma.handle.count({ where: { serverId: server.id, revokedAt: null } })).toBe(1);

    await expectAppError(setServerEnabled({ actor: userActor("admin"), data: { serverId: server.id, enabled: false, reason: "again" } }), "INVALID_STATE");

    const before = taskFixture.initializeCount();
    const enabler = userActor("admin");
    const enabled = await setServerEnabled({ actor: enabler, data: { serverId: server.id, enabled: true } });
    expect(taskFixture.initializeCount()).toBe(before + 1);
    expect(enabled).toMatchObject({ enabled: true, health: { status: expect.stringMatching(/^(up|degraded)$/) } }); // degraded: merely slow
    const events = await auditEventsOfRequest(prisma, enabler.request.requestId);
    expect(events.map((e) => e.action)).toEqual(["server.enabled", "server.health_changed"]);
    expect(events[0]!.payload).toEqual({ slug: server.slug, problem: null });

    await expectAppError(setServerEnabled({ actor: userActor("admin"), data: { serverId: server.id, enabled: true } }), "INVALID_STATE");
  });

  it("needs a reason to disable", async () => {
    const server = await registered();
    const error = await expectAppError(setServerEnabled({ actor: userActor("admin"), data: { serverId: server.id, enabled: false } }), "INVALID_INPUT");
    expect(issuePaths(error)).toEqual(["reason"]);
  });

  it("refuses to enable a server that fails its check, unless forced", async () => {
    const fixture = await startMcpFixture({ tasks: true });
    try {
      const server = await registered({ url: fixture.url });
      await setServerEnabled({ actor: userActor("admin"), data: { serverId: server.id, enabled: false, reason: "moving it" } });
      await fixture.stop();
      const error = await expectAppError(setServerEnabled({ actor: userActor("admin"), data: { serverId: server.id, enabled: true } }), "INVALID_INPUT");
      expect(error.message).toMatch(/^Unreachable: .*enable it anyway \(force\)\.$/);
      const forced = await setServerEnabled({ actor: userActor("admin"), data: { serverId: server.id, enabled: true, force: true } });
      expect(forced).toMatchObject({ enabled: true, health: { status: "degraded", consecutiveFailures: 1, lastErrorKind: "unreachable" } });
    } finally {
      await fixture.close();
    }
  });

  it("answers FORBIDDEN to a reviewer and NOT_FOUND for an unknown id", async () => {
    const server = await registered();
    await expectAppError(setServerEnabled({ actor: userActor("reviewer"), data: { serverId: server.id, enabled: false, reason: "nope" } }), "FORBIDDEN");
    await expectAppError(setServerEnabled({ actor: userActor("admin"), data: { serverId: randomUUID(), enabled: false, reason: "nope" } }), "NOT_FOUND");
  });
});

// ---- removeServer ---------------------------------------------------------------------------

describe("removeServer", () => {
  it("removes a server without live handles: invisible afterwards, audited in the same commit", async () => {
    const server = await registered();
    const actor = userActor("admin");
    const removed = await removeServer({ actor, data: { serverId: server.id, reason: "decommissioned" } });
    expect(removed).toMatchObject({ slug: server.slug, liveHandles: 0, handling: "revoke_all", revokedHandles: 0 });
    const [event] = await auditEventsOfRequest(prisma, actor.request.requestId);
    expect(event).toMatchObject({ action: "server.removed", reason: "decommissioned", payload: { slug: server.slug, liveHandles: 0, handling: "revoke_all", revokedHandles: 0 } });
    expect(await writerOf("audit_event", event!.id)).toBe(await writerOf("mcp_server", server.id));
    await expectAppError(getServer({ actor: userActor("viewer"), serverId: server.id }), "NOT_FOUND");
    expect((await listServers({ actor: userActor("viewer") })).map((s) => s.id)).not.toContain(server.id);
    await expectAppError(removeServer({ actor: userActor("admin"), data: { serverId: server.id, reason: "again" } }), "NOT_FOUND");
    expect(await prisma.mcpServer.findUniqueOrThrow({ where: { id: server.id } })).toMatchObject({ enabled: false, nextHealthCheckAt: null });
  });

  it("with live handles, asks what to do with them (409) and changes nothing", async () => {
    const server = await registered();
    await createHandle(server.id);
    const actor = userActor("admin");
    const error = await expectAppError(removeServer({ actor, data: { serverId: server.id, reason: "decommissioned" } }), "INVALID_STATE");
    expect(error.status).toBe(409);
    expect(issuePaths(error)).toEqual(["handling"]);
    expect(error.message).toMatch(/1 live handle/);
    expect((await prisma.mcpServer.findUniqueOrThrow({ where: { id: server.id } })).removedAt).toBeNull();
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
  });

  it("revoke_all revokes every live handle (trigger server_removed, one event each) and leaves expired and revoked ones alone", async () => {
    const admin = actorFor(await createPrincipal(prisma, { role: "admin" }));
    const server = await registered();
    const live = [await createHandle(server.id), await createHandle(server.id)];
    const expired = await createHandle(server.id, { expiresAt: new Date(Date.now() - 1000) });
    const revoked = await createHandle(server.id, { revokedAt: new Date(Date.now() - 1000) });

    const removed = await removeServer({ actor: admin, data: { serverId: server.id, handling: "revoke_all", reason: "upstream retired" } });
    expect(removed).toMatchObject({ liveHandles: 2, handling: "revoke_all", revokedHandles: 2 });

    for (const h of live) {
      const row = await prisma.handle.findUniqueOrThrow({ where: { id: h.id } });
      expect(row).toMatchObject({ revokeTrigger: "server_removed", revokeReason: "upstream retired", revokedById: admin.id });
      expect(row.revokedAt).not.toBeNull();
      const [event] = await auditEventsFor(prisma, h.id, "handle.revoked");
      expect(event).toMatchObject({ reason: "upstream retired", payload: { accessor: h.accessor, trigger: "server_removed", serverId: server.id } });
      expect(await writerOf("audit_event", event!.id)).toBe(await writerOf("mcp_server", server.id));
    }
    expect((await prisma.handle.findUniqueOrThrow({ where: { id: expired.id } })).revokedAt).toBeNull();
    expect((await prisma.handle.findUniqueOrThrow({ where: { id: revoked.id } })).revokeTrigger).toBe("manual");
    const events = await auditEventsOfRequest(prisma, admin.request.requestId);
    expect(events.map((e) => e.action)).toEqual(["handle.revoked", "handle.revoked", "server.removed"]);
    expect(events[2]!.payload).toEqual({ slug: server.slug, liveHandles: 2, handling: "revoke_all", revokedHandles: 2 });
  });

  it("keep_orphans keeps the live handles as they are and records the choice", async () => {
    const server = await registered();
    const handle = await createHandle(server.id);
    const actor = userActor("admin");
    const removed = await removeServer({ actor, data: { serverId: server.id, handling: "keep_orphans", reason: "moving" } });
    expect(removed).toMatchObject({ liveHandles: 1, handling: "keep_orphans", revokedHandles: 0 });
    expect((await prisma.handle.findUniqueOrThrow({ where: { id: handle.id } })).revokedAt).toBeNull();
    const events = await auditEventsOfRequest(prisma, actor.request.requestId);
    expect(events).toMatchObject([{ action: "server.removed", payload: { liveHandles: 1, handling: "keep_orphans", revokedHandles: 0 } }]);
  });

  it("answers FORBIDDEN to a reviewer, NOT_FOUND for an unknown id, and wants a reason", async () => {
    const server = await registered();
    await expectAppError(removeServer({ actor: userActor("reviewer"), data: { serverId: server.id, reason: "nope" } }), "FORBIDDEN");
    await expectAppError(removeServer({ actor: userActor("admin"), data: { serverId: randomUUID(), reason: "nope" } }), "NOT_FOUND");
    const error = await expectAppError(removeServer({ actor: userActor("admin"), data: { serverId: server.id, handling: "burn" } }), "INVALID_INPUT");
    expect(issuePaths(error)).toEqual(["handling", "reason"]);
  });
});

// ---- probeServer, listServers, getServer ----------------------------------------------------

describe("probeServer (dry run)", () => {
  it("checks a URL and writes nothing", async () => {
    const actor = userActor("admin");
    const count = await prisma.mcpServer.count();
    const result = await probeServer({ actor, data: { url: everything.url } });
    expect(result).toMatchObject({ ok: true, details: { taskWires: ["core_2025_11_25"] } });
    expect(await prisma.mcpServer.count()).toBe(count);
    expect(await auditEventsOfRequest(prisma, actor.request.requestId)).toEqual([]);
    expect(await probeServer({ actor, data: { url: web.url } })).toMatchObject({ ok: false, problem: { kind: "not_mcp" }, details: null });
  });

  it("uses a registered server's stored token", async () => {
    const { server } = await registerServer({ actor: userActor("admin"), data: { name: "Demo", slug: slug("demo"), url: demo.url, bearerToken: demo.bearerToken } });
    expect(await probeServer({ actor: userActor("admin"), data: { serverId: server.id } })).toMatchObject({ ok: true });
  });

  it("is for admins only", async () => {
    await expectAppError(probeServer({ actor: userActor("reviewer"), data: { url: everything.url } }), "FORBIDDEN");
  });
});

describe("listServers and getServer", () => {
  it("show every role with servers.read the servers, their live handles by status, and never credentials", async () => {
    const { server } = await registerServer({ actor: userActor("admin"), data: { name: "Demo", slug: slug("demo"), url: demo.url, bearerToken: demo.bearerToken } });
    await createHandle(server.id);
    await createHandle(server.id);
    await createHandle(server.id, { expiresAt: new Date(Date.now() - 1000) });
    for (const role of ["viewer", "reviewer", "support", "auditor", "admin"] as const) {
      const listed = (await listServers({ actor: userActor(role) })).find((s) => s.id === server.id);
      expect(listed).toMatchObject({ liveHandles: { total: 2, byStatus: { working: 2 } }, credentials: "bearer" });
      expect(asText(listed)).not.toContain(demo.bearerToken);
      expect(asText(listed)).not.toMatch(/credentialsEnc|v1\./);
    }
    const one = await getServer({ actor: userActor("viewer"), serverId: server.id });
    expect(one.id).toBe(server.id);
    await expectAppError(getServer({ actor: userActor("viewer"), serverId: randomUUID() }), "NOT_FOUND");
    await expectAppError(getServer({ actor: userActor("viewer"), serverId: "../etc" }), "NOT_FOUND");
  });
});

// ---- REST ------------------------------------------------------------------------------------

describe("REST /api/v1/servers with an API key", () => {
  const BASE = "http://tether.test";

  async function agentKey(role: TRole): Promise<string> {
    const account = await createPrincipal(prisma, { kind: "service", email: null, role });
    return (await createApiKey({ actor: userActor("admin"), data: { principalId: account.id, name: "servers test" } })).key;
  }

  function request(path: string, key: string, init: { method?: string; body?: unknown } = {}) {
    const headers = new Headers({ authorization: `Bearer ${key}` });
    if (init.body !== undefined) headers.set("content-type", "application/json");
    return new NextRequest(`${BASE}${path}`, { method: init.method ?? "GET", headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) });
  }
  const params = (id: string) => ({ params: Promise.resolve({ id }) });
  const noParams = { params: Promise.resolve({}) } as { params: Promise<Record<string, never>> };

  it("registers, reads, edits, disables, enables and removes a server; a failed check answers 422 with its class", async () => {
    const key = await agentKey("admin");
    const s = slug("rest");

    const failed = await registerRoute(request("/api/v1/servers", key, { method: "POST", body: { name: "x", slug: s, url: web.url } }), noParams);
    expect(failed.status).toBe(422);
    const failedBody = (await failed.json()) as { error: { code: string; probe: { problem: { kind: string } } } };
    expect(failedBody.error).toMatchObject({ code: "INVALID_INPUT", probe: { ok: false, problem: { kind: "not_mcp" } } });

    const created = await registerRoute(request("/api/v1/servers", key, { method: "POST", body: { name: "Everything", slug: s, url: everything.url } }), noParams);
    expect(created.status).toBe(201);
    const { server, check } = (await created.json()) as { server: { id: string; slug: string; enabled: boolean; taskWires: string[] }; check: { ok: boolean } };
    expect(server).toMatchObject({ slug: s, enabled: true, taskWires: ["core_2025_11_25"] });
    expect(check.ok).toBe(true);

    const list = await listRoute(request("/api/v1/servers", key), noParams);
    expect(((await list.json()) as { data: Array<{ id: string }> }).data.map((x) => x.id)).toContain(server.id);
    const one = await getRoute(request(`/api/v1/servers/${server.id}`, key), params(server.id));
    expect(one.status).toBe(200);

    const patched = await patchRoute(request(`/api/v1/servers/${server.id}`, key, { method: "PATCH", body: { name: "Renamed" } }), params(server.id));
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { server: { name: string } }).server.name).toBe("Renamed");

    const off = await disableRoute(request(`/api/v1/servers/${server.id}/disable`, key, { method: "POST", body: { reason: "rest test" } }), params(server.id));
    expect(off.status).toBe(200);
    const offAgain = await disableRoute(request(`/api/v1/servers/${server.id}/disable`, key, { method: "POST", body: { reason: "rest test" } }), params(server.id));
    expect(offAgain.status).toBe(409);
    const on = await enableRoute(request(`/api/v1/servers/${server.id}/enable`, key, { method: "POST" }), params(server.id));
    expect(on.status).toBe(200);
    expect(((await on.json()) as { enabled: boolean }).enabled).toBe(true);

    await createHandle(server.id);
    const needsChoice = await deleteRoute(request(`/api/v1/servers/${server.id}`, key, { method: "DELETE", body: { reason: "done" } }), params(server.id));
    expect(needsChoice.status).toBe(409);
    const deleted = await deleteRoute(request(`/api/v1/servers/${server.id}`, key, { method: "DELETE", body: { reason: "done", handling: "revoke_all" } }), params(server.id));
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toMatchObject({ liveHandles: 1, handling: "revoke_all", revokedHandles: 1 });
    expect((await getRoute(request(`/api/v1/servers/${server.id}`, key), params(server.id))).status).toBe(404);
  });

  it("dry-runs a check at /probe", async () => {
    const key = await agentKey("admin");
    const res = await probeRoute(request("/api/v1/servers/probe", key, { method: "POST", body: { url: unauthorized.url } }), noParams);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: false, problem: { kind: "credentials_refused" } });
  });

  it("lets a viewer read but not change (403), and answers 404 for an unknown id", async () => {
    const viewer = await agentKey("viewer");
    expect((await listRoute(request("/api/v1/servers", viewer), noParams)).status).toBe(200);
    const denied = await registerRoute(request("/api/v1/servers", viewer, { method: "POST", body: { name: "x", slug: slug(), url: everything.url } }), noParams);
    expect(denied.status).toBe(403);
    const reviewer = await agentKey("reviewer");
    const server = await registered();
    expect((await disableRoute(request(`/api/v1/servers/${server.id}/disable`, reviewer, { method: "POST", body: { reason: "nope" } }), params(server.id))).status).toBe(403);
    const id = randomUUID();
    expect((await getRoute(request(`/api/v1/servers/${id}`, viewer), params(id))).status).toBe(404);
    expect((await patchRoute(request(`/api/v1/servers/${id}`, await agentKey("admin"), { method: "PATCH", body: { name: "x" } }), params(id))).status).toBe(404);
  });
});
