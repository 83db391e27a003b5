// The handle page's use cases and their REST routes against real parts: handles minted by the real
// gateway for official SDK clients, Tether's demo upstream (in-process, real HTTP), and this file's
// own Postgres. Cancel must reach the upstream with the server's credentials, record its outcome
// apart from the request, revoke the handle, and retry an unreachable upstream until it answers.
import { randomUUID } from "node:crypto";
import net from "node:net";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { GET as getHandleRoute } from "@/app/api/v1/handles/[accessor]/route";
import { POST as cancelRoute } from "@/app/api/v1/handles/[accessor]/cancel/route";
import { POST as revokeRoute } from "@/app/api/v1/handles/[accessor]/revoke/route";
import { GET as timelineRoute } from "@/app/api/v1/handles/[accessor]/timeline/route";
import { createApiKey } from "@/lib/api-keys/create-api-key";
import { createServiceAccount } from "@/lib/api-keys/create-service-account";
import { recordAuditEvent } from "@/lib/audit/record-audit-event";
import { systemActor, type TActor } from "@/lib/auth/actor";
import type { TRole } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db/client";
import { handleTokenHash } from "@/lib/gateway/handle-token";
import { cancelHandle } from "@/lib/handles/cancel-handle";
import { getHandle } from "@/lib/handles/get-handle";
import type { THandleStateDto } from "@/lib/handles/handle-detail-schemas";
import { listActiveHandles } from "@/lib/handles/list-active-handles";
import { listHandleTimeline } from "@/lib/handles/list-handle-timeline";
import { retryDueCancels } from "@/lib/handles/retry-cancels";
import { revokeHandle } from "@/lib/handles/revoke-handle";
import { ensureDefaultPolicy } from "@/lib/policy/ensure-default-policy";
import { insertHandle } from "../factories/handles";
import { actorFor, createPrincipal, newRequest } from "../factories/principals";
import { setUpTestSecrets } from "./support/env";
import { expectAppError } from "./support/errors";
import { captureLogs, connectAgent, createAgent, createTask, registerServer, startDemoServer, type TAgent, type TConnectedAgent } from "./support/gateway";
import { setUpOwnDatabase } from "./support/own-database";

setUpOwnDatabase();
setUpTestSecrets();

const prisma = () => getPrisma();

/** A TCP forwarder in front of the demo upstream: stopping it makes the upstream unreachable for Tether while the upstream keeps its sessions and tasks. */
type TProxy = { url: string; stop(): Promise<void>; start(): Promise<void> };
async function startProxy(targetPort: number): Promise<TProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", () => resolve()));
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
    start: () => listen(port),
  };
}

let demo: Awaited<ReturnType<typeof startDemoServer>>;
let proxy: TProxy;
let demoServer: { id: string; slug: string };
let proxiedServer: { id: string; slug: string };
let agent: TAgent;
const open: TConnectedAgent[] = [];
let logs: ReturnType<typeof captureLogs>;
const people = {} as Record<TRole, TActor>;

beforeAll(async () => {
  logs = captureLogs();
  await ensureDefaultPolicy(prisma(), systemActor("test", `handle-actions-${randomUUID()}`));
  demo = await startDemoServer();
  proxy = await startProxy(demo.port);
  demoServer = await registerServer({ url: demo.url, bearerToken: demo.bearerToken });
  proxiedServer = await registerServer({ url: proxy.url, bearerToken: demo.bearerToken });
  for (const role of ["admin", "reviewer", "support", "auditor", "viewer"] as const) people[role] = actorFor(await createPrincipal(prisma(), { role }));
  agent = await createAgent(people.admin, "handle-actions-agent");
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.client.close()));
  await Promise.allSettled([proxy?.stop(), demo?.close()]);
  logs?.restore();
});

/** A fresh actor of the role (its own request id, so its audit rows can be told apart). */
function as(role: TRole): TActor {
  return { ...people[role], request: newRequest() } as TActor;
}

/** A real task through the gateway, and the handle Tether minted for it. */
async function mint(tool: string, args: Record<string, unknown>, slug = demoServer.slug) {
  const connected = await connectAgent(agent, slug);
  open.push(connected);
  const task = await createTask(connected.client, tool, args, { ttl: 300_000 });
  const handle = await prisma().handle.findUniqueOrThrow({ where: { tokenHash: handleTokenHash(task.taskId) } });
  return { client: connected.client, token: task.taskId, handle };
}

const queued = () => mint("queued_task", { queueSeconds: 120, seconds: 1 });

function events(handleId: string) {
  return prisma().auditEvent.findMany({ where: { targetType: "handle", targetId: handleId }, orderBy: { seq: "asc" } });
}

async function xminOf(table: "handle" | "audit_event", id: string): Promise<string> {
  const rows = await prisma().$queryRawUnsafe<Array<{ xmin: string }>>(`SELECT xmin::text AS xmin FROM ${table} WHERE id = $1::uuid`, id);
  return rows[0]!.xmin;
}

const missing = () => `hdl_${randomUUID().replace(/-/g, "").slice(0, 20)}`;

describe("getHandle", () => {
  it("shows the binding, TTLs and status of a minted handle to every role that reads handles, and no secret", async () => {
    const { token, handle } = await mint("long_task", { seconds: 30 });
    for (const role of ["viewer", "auditor", "support"] as const) {
      const dto = await getHandle({ actor: as(role), accessor: handle.accessor });
      expect(dto).toMatchObject({
        accessor: handle.accessor,
        lifecycle: "live",
        status: "working",
        toolName: "long_task",
        server: { id: demoServer.id, slug: demoServer.slug, removed: false },
        principal: { id: agent.principalId, kind: "service", disabled: false },
        session: { id: handle.sessionId, endedAt: null, clientName: "tether-gateway-test" },
        audience: handle.audience,
        ttl: { requestedMs: 300_000, effectiveMs: handle.effectiveTtlMs },
        policy: { version: 1, honoured: true },
        cancel: { state: "none", attempts: 0, nextAttemptAt: null },
        revocation: null,
      });
      const text = JSON.stringify(dto);
      for (const secret of [token, handle.tokenHash, handle.tokenEnc, handle.upstreamTaskIdEnc, handle.upstreamTaskIdHash]) expect(text).not.toContain(secret);
    }
  });

  it("is 404 for a handle that does not exist and 422 for something that is not an accessor", async () => {
    await expectAppError(getHandle({ actor: as("viewer"), accessor: missing() }), "NOT_FOUND");
    const bad = await expectAppError(getHandle({ actor: as("viewer"), accessor: "tht_not-an-accessor" }), "INVALID_INPUT");
    expect(bad.issues?.[0]?.path).toBe("accessor");
  });
});

describe("listHandleTimeline", () => {
  it("lists the handle's events oldest first, in pages", async () => {
    const { client, token, handle } = await mint("long_task", { seconds: 0.2 });
    await new Promise((r) => setTimeout(r, 600));
    await client.experimental.tasks.getTask(token); // the gateway sees it completed: a status change
    const all = await listHandleTimeline({ actor: as("viewer"), query: { accessor: handle.accessor } });
    expect(all.events.map((e) => e.action)).toEqual(["handle.issued", "handle.status_changed"]);
    expect(all.events[0]).toMatchObject({ actor: { type: "service", id: agent.principalId, name: agent.name }, payload: { accessor: handle.accessor, toolName: "long_task" } });
    expect(all.events[1]!.payload).toMatchObject({ from: "working", to: "completed", source: "gateway" });
    expect(all.nextCursor).toBeNull();

    const first = await listHandleTimeline({ actor: as("viewer"), query: { accessor: handle.accessor, limit: "1" } });
    expect(first.events.map((e) => e.action)).toEqual(["handle.issued"]);
    const second = await listHandleTimeline({ actor: as("viewer"), query: { accessor: handle.accessor, limit: "1", after: first.nextCursor } });
    expect(second.events.map((e) => e.action)).toEqual(["handle.status_changed"]);
    expect(second.nextCursor).toBeNull();
  });

  it("refuses a bad page and a missing handle", async () => {
    const { handle } = await mint("long_task", { seconds: 5 });
    await expectAppError(listHandleTimeline({ actor: as("viewer"), query: { accessor: handle.accessor, limit: "100000" } }), "INVALID_INPUT");
    await expectAppError(listHandleTimeline({ actor: as("viewer"), query: { accessor: handle.accessor, after: "'; drop" } }), "INVALID_INPUT");
    await expectAppError(listHandleTimeline({ actor: as("viewer"), query: { accessor: missing() } }), "NOT_FOUND");
  });
});

describe("revokeHandle", () => {
  it("lets a reviewer revoke, in one commit with its audit event; the agent's next call is refused", async () => {
    const { client, token, handle } = await mint("long_task", { seconds: 30 });
    const reviewer = as("reviewer");
    await revokeHandle({ actor: reviewer, data: { accessor: handle.accessor, reason: "suspicious use" } });
    const [event] = (await events(handle.id)).filter((e) => e.action === "handle.revoked");
    expect(event).toMatchObject({ actorId: reviewer.id, actorRole: "reviewer", reason: "suspicious use", payload: { trigger: "manual" } });
    expect(await xminOf("audit_event", event!.id)).toBe(await xminOf("handle", handle.id));
    const dto = await getHandle({ actor: as("viewer"), accessor: handle.accessor });
    expect(dto.revocation).toMatchObject({ by: { id: reviewer.id }, reason: "suspicious use", trigger: "manual" });
    await expect(client.experimental.tasks.getTask(token)).rejects.toBeInstanceOf(McpError);
    const denial = await prisma().auditEvent.findFirst({ where: { targetId: handle.id, action: "handle.denied" } });
    expect(denial?.payload).toMatchObject({ cause: "revoked" });
  });

  it("refuses support, viewers and auditors (403), a missing handle (404), and a reason that is missing (422)", async () => {
    const h = await insertHandle(prisma(), { serverId: demoServer.id, principalId: agent.principalId });
    for (const role of ["support", "viewer", "auditor"] as const) await expectAppError(revokeHandle({ actor: as(role), data: { accessor: h.accessor, reason: "no right" } }), "FORBIDDEN");
    await expectAppError(revokeHandle({ actor: as("reviewer"), data: { accessor: missing(), reason: "nothing there" } }), "NOT_FOUND");
    await expectAppError(revokeHandle({ actor: as("reviewer"), data: { accessor: h.accessor, reason: "  " } }), "INVALID_INPUT");
    expect((await prisma().handle.findUniqueOrThrow({ where: { id: h.id } })).revokedAt).toBeNull();
  });

  it("is 409 with the current state for a revoked or an expired handle", async () => {
    const revoked = await insertHandle(prisma(), { serverId: demoServer.id, principalId: agent.principalId, revokedAt: new Date() });
    const again = await expectAppError(revokeHandle({ actor: as("admin"), data: { accessor: revoked.accessor, reason: "again" } }), "INVALID_STATE");
    expect((again.details?.handle as THandleStateDto).lifecycle).toBe("revoked");
    const expired = await insertHandle(prisma(), { serverId: demoServer.id, principalId: agent.principalId, createdAt: new Date(Date.now() - 7_200_000), expiresAt: new Date(Date.now() - 1000) });
    const late = await expectAppError(revokeHandle({ actor: as("admin"), data: { accessor: expired.accessor, reason: "too late" } }), "INVALID_STATE");
    expect((late.details?.handle as THandleStateDto).lifecycle).toBe("expired");
  });

  it("of two reviewers revoking at once, exactly one does it and writes one event; the other sees it revoked", async () => {
    const h = await insertHandle(prisma(), { serverId: demoServer.id, principalId: agent.principalId });
    const results = await Promise.allSettled([
      revokeHandle({ actor: as("reviewer"), data: { accessor: h.accessor, reason: "first" } }),
      revokeHandle({ actor: as("admin"), data: { accessor: h.accessor, reason: "second" } }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: "INVALID_STATE", details: { handle: { lifecycle: "revoked" } } });
    expect((await events(h.id)).filter((e) => e.action === "handle.revoked")).toHaveLength(1);
  });
});

describe("cancelHandle", () => {
  it("sends tasks/cancel upstream for support, records the outcome apart from the request, revokes, and the agent is refused next", async () => {
    const { client, token, handle } = await queued();
    const support = as("support");
    const dto = await cancelHandle({ actor: support, data: { accessor: handle.accessor, reason: "customer withdrew the request" } });
    expect(dto).toMatchObject({ status: "cancelled", lifecycle: "revoked", cancel: { state: "confirmed", attempts: 1, nextAttemptAt: null } });
    expect(dto.revocation).toMatchObject({ by: { id: support.id }, reason: "customer withdrew the request", trigger: "cancel" });

    const trail = (await events(handle.id)).filter((e) => e.action !== "handle.issued");
    expect(trail.map((e) => e.action)).toEqual(["handle.cancel_requested", "handle.status_changed", "handle.cancel_outcome", "handle.revoked"]);
    const [requested, changed, outcome, revoked] = trail;
    expect(requested).toMatchObject({ actorId: support.id, actorRole: "support", reason: "customer withdrew the request", payload: { via: "console" } });
    expect(changed).toMatchObject({ actorType: "system", payload: { from: "working", to: "cancelled", source: "cancel" } });
    expect(outcome).toMatchObject({ actorType: "system", outcome: "ok", requestId: support.request.requestId, payload: { outcome: "confirmed", attempt: 1, via: "console", nextAttemptAt: null } });
    expect(revoked).toMatchObject({ actorId: support.id, reason: "customer withdrew the request", payload: { trigger: "cancel" } });
    // The request commits on its own; the outcome, the status change and the revocation together, with the handle row.
    const outcomeTx = await xminOf("audit_event", outcome!.id);
    expect(await xminOf("audit_event", requested!.id)).not.toBe(outcomeTx);
    expect(await xminOf("audit_event", changed!.id)).toBe(outcomeTx);
    expect(await xminOf("audit_event", revoked!.id)).toBe(outcomeTx);
    expect(await xminOf("handle", handle.id)).toBe(outcomeTx);

    await expect(client.experimental.tasks.getTask(token)).rejects.toBeInstanceOf(McpError);
    const denial = await prisma().auditEvent.findFirst({ where: { targetId: handle.id, action: "handle.denied" } });
    expect(denial?.payload).toMatchObject({ cause: "revoked", operation: "tasks/get" });
    expect(logs.text()).not.toContain(token);
  });

  it("records already_terminal with the final status when the task ended upstream before Tether saw it", async () => {
    const { handle } = await mint("long_task", { seconds: 0.2 });
    await new Promise((r) => setTimeout(r, 700)); // completed upstream; nobody polled, so Tether still shows working
    const dto = await cancelHandle({ actor: as("reviewer"), data: { accessor: handle.accessor, reason: "no longer needed" } });
    expect(dto).toMatchObject({ status: "completed", lifecycle: "revoked", cancel: { state: "already_terminal" } });
    const outcome = (await events(handle.id)).find((e) => e.action === "handle.cancel_outcome");
    expect(outcome?.payload).toMatchObject({ outcome: "already_terminal" });
  });

  it("refuses viewers and auditors (403), a missing handle (404), a missing reason (422)", async () => {
    const h = await insertHandle(prisma(), { serverId: demoServer.id, principalId: agent.principalId });
    for (const role of ["viewer", "auditor"] as const) await expectAppError(cancelHandle({ actor: as(role), data: { accessor: h.accessor, reason: "no right" } }), "FORBIDDEN");
    await expectAppError(cancelHandle({ actor: as("support"), data: { accessor: missing(), reason: "nothing there" } }), "NOT_FOUND");
    const noReason = await expectAppError(cancelHandle({ actor: as("support"), data: { accessor: h.accessor } }), "INVALID_INPUT");
    expect(noReason.issues?.map((i) => i.path)).toEqual(["reason"]);
    await expectAppError(cancelHandle({ actor: as("support"), data: { accessor: h.accessor, reason: "x".repeat(501) } }), "INVALID_INPUT");
    expect(await prisma().handle.findUniqueOrThrow({ where: { id: h.id } })).toMatchObject({ cancelState: "none", revokedAt: null });
    expect(await events(h.id)).toHaveLength(0);
  });

  it("is 409 with the current state for an ended, revoked or expired handle", async () => {
    const ended = await insertHandle(prisma(), { serverId: demoServer.id, principalId: agent.principalId, status: "completed" });
    const revoked = await insertHandle(prisma(), { serverId: demoServer.id, principalId: agent.principalId, revokedAt: new Date() });
    const expired = await insertHandle(prisma(), { serverId: demoServer.id, principalId: agent.principalId, createdAt: new Date(Date.now() - 7_200_000), expiresAt: new Date(Date.now() - 1000) });
    for (const [h, lifecycle] of [[ended, "terminal"], [revoked, "revoked"], [expired, "expired"]] as const) {
      const err = await expectAppError(cancelHandle({ actor: as("support"), data: { accessor: h.accessor, reason: "stop it" } }), "INVALID_STATE");
      expect((err.details?.handle as THandleStateDto).lifecycle).toBe(lifecycle);
      expect(await events(h.id)).toHaveLength(0);
    }
  });

  it("of two support users cancelling at once, one cancel happens with one event each; both see the final state", async () => {
    const { handle } = await queued();
    const results = await Promise.allSettled([
      cancelHandle({ actor: as("support"), data: { accessor: handle.accessor, reason: "double click 1" } }),
      cancelHandle({ actor: as("support"), data: { accessor: handle.accessor, reason: "double click 2" } }),
    ]);
    const done = results.filter((r) => r.status === "fulfilled");
    expect(done).toHaveLength(1);
    expect(done[0]!.value).toMatchObject({ cancel: { state: "confirmed" }, lifecycle: "revoked" });
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: "INVALID_STATE", details: { handle: { lifecycle: "revoked", cancelState: "confirmed", status: "cancelled" } } });
    const actions = (await events(handle.id)).map((e) => e.action);
    for (const action of ["handle.cancel_requested", "handle.cancel_outcome", "handle.revoked"]) expect(actions.filter((a) => a === action)).toHaveLength(1);
  });

  it("keeps retrying an unreachable upstream with backoff, and confirms once it is back", async () => {
    const { handle } = await mint("queued_task", { queueSeconds: 120, seconds: 1 }, proxiedServer.slug);
    await proxy.stop();
    // The backoff is added to the database's now() of the transaction that records the outcome.
    // That instant lies after the attempt began (taken here, before it) and no later than the
    // outcome event's occurredAt (stamped in that transaction): the delay is bracketed by the two,
    // whatever else the attempt spent its time on. (Timestamps are whole ms: 1 ms of rounding.)
    const backoff = async (attempt: number, began: number, nextAttemptAt: Date) => {
      const outcome = (await events(handle.id)).find((e) => e.action === "handle.cancel_outcome" && (e.payload as { attempt: number }).attempt === attempt);
      expect(outcome?.payload).toMatchObject({ outcome: "unreachable", nextAttemptAt: nextAttemptAt.toISOString() });
      return { atLeast: nextAttemptAt.getTime() - began, atMost: nextAttemptAt.getTime() - outcome!.occurredAt.getTime() };
    };
    try {
      const firstBegan = Date.now();
      const first = await cancelHandle({ actor: as("support"), data: { accessor: handle.accessor, reason: "upstream flaky" } });
      expect(first).toMatchObject({ status: "working", lifecycle: "revoked", cancel: { state: "unreachable", attempts: 1 } });
      const firstRetry = await backoff(1, firstBegan, first.cancel.nextAttemptAt!);
      expect(firstRetry.atLeast).toBeGreaterThanOrEqual(4_500); // 5 s - 10 %
      expect(firstRetry.atMost).toBeLessThanOrEqual(5_501); // 5 s + 10 %

      // Not due yet: nothing is claimed.
      expect(await retryDueCancels()).toBe(0);
      // Time passes (the backoff ran out) while the upstream is still down; two workers race for it.
      await prisma().handle.update({ where: { id: handle.id }, data: { cancelNextAttemptAt: new Date(Date.now() - 1) } });
      const secondBegan = Date.now();
      expect((await Promise.all([retryDueCancels(), retryDueCancels()])).reduce((a, b) => a + b)).toBe(1);
      const second = await getHandle({ actor: as("support"), accessor: handle.accessor });
      expect(second.cancel).toMatchObject({ state: "unreachable", attempts: 2 });
      const secondRetry = await backoff(2, secondBegan, second.cancel.nextAttemptAt!); // doubled
      expect(secondRetry.atLeast).toBeGreaterThanOrEqual(9_000); // 10 s - 10 %
      expect(secondRetry.atMost).toBeLessThanOrEqual(11_001); // 10 s + 10 %
    } finally {
      await proxy.start();
    }
    await prisma().handle.update({ where: { id: handle.id }, data: { cancelNextAttemptAt: new Date(Date.now() - 1) } });
    expect(await retryDueCancels()).toBe(1);
    const after = await getHandle({ actor: as("viewer"), accessor: handle.accessor });
    expect(after).toMatchObject({ status: "cancelled", cancel: { state: "confirmed", attempts: 3, nextAttemptAt: null } });

    const trail = await events(handle.id);
    const outcomes = trail.filter((e) => e.action === "handle.cancel_outcome").map((e) => [(e.payload as { outcome: string }).outcome, (e.payload as { attempt: number }).attempt]);
    expect(outcomes).toEqual([
      ["unreachable", 1],
      ["unreachable", 2],
      ["confirmed", 3],
    ]);
    expect(trail.filter((e) => e.action === "handle.revoked")).toHaveLength(1);
    expect(trail.filter((e) => e.action === "handle.cancel_requested")).toHaveLength(1);
    expect(await retryDueCancels()).toBe(0);
  });

  it("picks up a cancel whose process died after the request, and revokes it in the requester's name", async () => {
    const { handle } = await queued();
    const support = as("support");
    // What a crash right after the request's commit leaves behind: requested, with a lease that ran out.
    await prisma().$transaction(async (tx) => {
      await tx.handle.update({ where: { id: handle.id }, data: { cancelState: "requested", cancelRequestedAt: new Date(), cancelAttempts: 1, cancelNextAttemptAt: new Date(Date.now() - 1) } });
      await recordAuditEvent(tx, { actor: support, action: "handle.cancel_requested", target: { type: "handle", id: handle.id }, reason: "crashed midway", payload: { accessor: handle.accessor, via: "console" } });
    });
    expect(await retryDueCancels()).toBe(1);
    const dto = await getHandle({ actor: as("viewer"), accessor: handle.accessor });
    expect(dto).toMatchObject({ status: "cancelled", cancel: { state: "confirmed", attempts: 2 }, revocation: { by: { id: support.id }, reason: "crashed midway", trigger: "cancel" } });
  });
});

describe("listActiveHandles", () => {
  it("lists live handles whose task has not ended, newest first, without revoked, ended or expired ones", async () => {
    const older = await insertHandle(prisma(), { serverId: demoServer.id, principalId: agent.principalId, createdAt: new Date(Date.now() - 60_000) });
    const newer = await insertHandle(prisma(), { serverId: demoServer.id, principalId: agent.principalId });
    const ended = await insertHandle(prisma(), { serverId: demoServer.id, principalId: agent.principalId, status: "completed" });
    const revoked = await insertHandle(prisma(), { serverId: demoServer.id, principalId: agent.principalId, revokedAt: new Date() });
    const page = await listActiveHandles({ actor: as("support") });
    const accessors = page.handles.map((h) => h.accessor);
    expect(accessors.indexOf(newer.accessor)).toBeLessThan(accessors.indexOf(older.accessor));
    expect(accessors.indexOf(older.accessor)).toBeGreaterThanOrEqual(0);
    expect(accessors).not.toContain(ended.accessor);
    expect(accessors).not.toContain(revoked.accessor);
    await expectAppError(listActiveHandles({ actor: as("support"), query: { before: "garbage" } }), "INVALID_INPUT");
  });
});

describe("REST /api/v1/handles/{accessor}", () => {
  const BASE = "http://tether.test";
  const keys = {} as Record<"support" | "viewer" | "reviewer", string>;

  beforeAll(async () => {
    for (const role of ["support", "viewer", "reviewer"] as const) {
      const account = await createServiceAccount({ actor: people.admin, data: { name: `rest-${role}-${randomUUID().slice(0, 6)}`, role } });
      keys[role] = (await createApiKey({ actor: people.admin, data: { principalId: account.id, name: "rest", expiresInDays: 1 } })).key;
    }
  });

  function request(path: string, key: string, init: { method?: string; body?: string; contentType?: string } = {}) {
    const headers = new Headers({ authorization: `Bearer ${key}` });
    if (init.body !== undefined) headers.set("content-type", init.contentType ?? "application/json");
    return new NextRequest(`${BASE}${path}`, { method: init.method ?? "GET", headers, ...(init.body === undefined ? {} : { body: init.body }) });
  }
  const params = (accessor: string) => ({ params: Promise.resolve({ accessor }) });

  it("gets a handle and its timeline for a viewer; 404 for an unknown one, 401 without a valid key", async () => {
    const { handle } = await mint("long_task", { seconds: 30 });
    const got = await getHandleRoute(request(`/api/v1/handles/${handle.accessor}`, keys.viewer), params(handle.accessor));
    expect(got.status).toBe(200);
    const body = (await got.json()) as { accessor: string; cancel: { state: string } };
    expect(body).toMatchObject({ accessor: handle.accessor, lifecycle: "live", cancel: { state: "none" } });
    const timeline = await timelineRoute(request(`/api/v1/handles/${handle.accessor}/timeline?limit=10`, keys.viewer), params(handle.accessor));
    expect(((await timeline.json()) as { events: Array<{ action: string }> }).events.map((e) => e.action)).toEqual(["handle.issued"]);
    const unknown = await getHandleRoute(request(`/api/v1/handles/${missing()}`, keys.viewer), params(missing()));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: "NOT_FOUND", message: "No such handle." } });
    const badLimit = await timelineRoute(request(`/api/v1/handles/${handle.accessor}/timeline?limit=0`, keys.viewer), params(handle.accessor));
    expect(badLimit.status).toBe(422);
    expect((await getHandleRoute(request(`/api/v1/handles/${handle.accessor}`, "tth_00000000_nope"), params(handle.accessor))).status).toBe(401);
  });

  it("cancels for support (200 with the outcome), 409 with the state the second time, 403 for a viewer, 4xx for bad bodies", async () => {
    const { handle } = await queued();
    const path = `/api/v1/handles/${handle.accessor}/cancel`;
    const viewer = await cancelRoute(request(path, keys.viewer, { method: "POST", body: JSON.stringify({ reason: "not mine" }) }), params(handle.accessor));
    expect(viewer.status).toBe(403);
    expect(((await viewer.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
    const viewerRevoke = await revokeRoute(request(`/api/v1/handles/${handle.accessor}/revoke`, keys.viewer, { method: "POST", body: JSON.stringify({ reason: "not mine" }) }), params(handle.accessor));
    expect(viewerRevoke.status).toBe(403);
    expect((await cancelRoute(request(path, keys.support, { method: "POST", body: "{not json" }), params(handle.accessor))).status).toBe(422);
    expect((await cancelRoute(request(path, keys.support, { method: "POST", body: "reason=x", contentType: "text/plain" }), params(handle.accessor))).status).toBe(415);
    const empty = await cancelRoute(request(path, keys.support, { method: "POST", body: JSON.stringify({ reason: "" }) }), params(handle.accessor));
    expect(empty.status).toBe(422);
    expect(((await empty.json()) as { error: { issues: Array<{ path: string }> } }).error.issues.map((i) => i.path)).toEqual(["reason"]);

    const ok = await cancelRoute(request(path, keys.support, { method: "POST", body: JSON.stringify({ reason: "withdrawn by the customer" }) }), params(handle.accessor));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ accessor: handle.accessor, status: "cancelled", cancel: { state: "confirmed" }, revocation: { trigger: "cancel" } });
    const again = await cancelRoute(request(path, keys.support, { method: "POST", body: JSON.stringify({ reason: "again" }) }), params(handle.accessor));
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: "INVALID_STATE", handle: { accessor: handle.accessor, lifecycle: "revoked", cancelState: "confirmed" } } });
  });

  it("refuses a state change from another site's page, and accepts one from the console's own origin (Host)", async () => {
    const { handle } = await mint("long_task", { seconds: 30 });
    const path = `/api/v1/handles/${handle.accessor}/revoke`;
    const from = (origin: string, host: string) => {
      const r = request(path, keys.reviewer, { method: "POST", body: JSON.stringify({ reason: "origin check" }) });
      r.headers.set("origin", origin);
      r.headers.set("host", host);
      return r;
    };
    const evil = await revokeRoute(from("https://evil.example", "tether.test"), params(handle.accessor));
    expect(evil.status).toBe(403);
    expect(await evil.json()).toMatchObject({ error: { code: "FORBIDDEN", message: "Cross-site request refused." } });
    expect((await getPrisma().handle.findUniqueOrThrow({ where: { id: handle.id } })).revokedAt).toBeNull();
    // The browser addressed the console as 127.0.0.1:3000 while Next knows itself by another name.
    const same = await revokeRoute(from("http://127.0.0.1:3000", "127.0.0.1:3000"), params(handle.accessor));
    expect(same.status).toBe(200);
  });

  it("revokes for a reviewer; 409 with the state the second time", async () => {
    const { handle } = await mint("long_task", { seconds: 30 });
    const path = `/api/v1/handles/${handle.accessor}/revoke`;
    const ok = await revokeRoute(request(path, keys.reviewer, { method: "POST", body: JSON.stringify({ reason: "leaked in a log" }) }), params(handle.accessor));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ lifecycle: "revoked", revocation: { reason: "leaked in a log", trigger: "manual" } });
    const again = await revokeRoute(request(path, keys.reviewer, { method: "POST", body: JSON.stringify({ reason: "leaked in a log" }) }), params(handle.accessor));
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: "INVALID_STATE", handle: { lifecycle: "revoked" } } });
  });
});
